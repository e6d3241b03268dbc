// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/jitscope/jitscope/internal/readfile"
	"github.com/jitscope/jitscope/kernel"
)

// LoadELF reads a BPF ELF object as clang emits it (no kernel needed).
//
// cilium/ebpf links each program when it reads the object: a ProgramSpec's
// Instructions hold the program's own function followed by every function
// it reaches through bpf-to-bpf calls, each starting with an instruction
// that carries the function's symbol (linker.go: flattenInstructions, in
// breadth-first order of first reference). That concatenation is the order
// in which the functions go to the kernel, so it is kept as is, and the
// functions are found again by their symbols.
func LoadELF(path string) (*kernel.Set, error) {
	data, err := readfile.Read(path, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return loadELF(path, data)
}

// loadELF is LoadELF on the file's contents (path names it in errors):
// the file is read once, so what is parsed is what was checked.
func loadELF(path string, data []byte) (*kernel.Set, error) {
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	s := &kernel.Set{
		Name:        name,
		Description: fmt.Sprintf("BPF object %s", filepath.Base(path)),
		Source:      path,
	}

	for _, mn := range sortedMapNames(spec) {
		ms := spec.Maps[mn]
		m, err := elfMap(mn, ms)
		if err != nil {
			return nil, fmt.Errorf("%s: map %s: %w", path, mn, err)
		}
		s.Maps = append(s.Maps, m)
	}
	for _, pn := range programOrder(data, spec) {
		prog, err := elfProgram(pn, spec.Programs[pn], s)
		if err != nil {
			return nil, fmt.Errorf("%s: program %s: %w", path, pn, err)
		}
		s.Programs = append(s.Programs, prog)
	}
	if len(s.Programs) == 0 {
		return nil, fmt.Errorf("%s: no BPF programs in the object", path)
	}
	for _, m := range s.Maps {
		for k, p := range m.Progs {
			if s.Program(p) == nil {
				return nil, fmt.Errorf("%s: map %s[%d]: program %q is not in the object", path, m.Name, k, p)
			}
		}
	}
	return s, nil
}

func sortedMapNames(spec *ebpf.CollectionSpec) []string {
	var names []string
	for n := range spec.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// programOrder returns the program names in the order their functions
// appear in the object (section, then offset), falling back to names.
func programOrder(data []byte, spec *ebpf.CollectionSpec) []string {
	type pos struct {
		sec  elf.SectionIndex
		off  uint64
		seen bool
	}
	where := map[string]pos{}
	if f, err := elf.NewFile(bytes.NewReader(data)); err == nil {
		if syms, err := f.Symbols(); err == nil {
			for _, sym := range syms {
				if elf.ST_TYPE(sym.Info) == elf.STT_FUNC {
					where[sym.Name] = pos{sym.Section, sym.Value, true}
				}
			}
		}
		f.Close()
	}
	var names []string
	for n := range spec.Programs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := where[names[i]], where[names[j]]
		if a.seen != b.seen {
			return a.seen
		}
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		if a.off != b.off {
			return a.off < b.off
		}
		return names[i] < names[j]
	})
	return names
}

func elfMap(name string, ms *ebpf.MapSpec) (*kernel.Map, error) {
	typ, ok := mapTypes[ms.Type]
	if !ok {
		return nil, fmt.Errorf("unsupported map type %v", ms.Type)
	}
	m := &kernel.Map{
		Name:       name,
		Type:       typ,
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
	}
	switch {
	case m.IsProgArray():
		for _, kv := range ms.Contents {
			k, ok := kv.Key.(uint32)
			if !ok {
				return nil, fmt.Errorf("prog array key %v (%T) is not a uint32", kv.Key, kv.Key)
			}
			p, ok := kv.Value.(string)
			if !ok {
				// A program given as something else (an fd at run
				// time) has no static meaning here.
				continue
			}
			if m.Progs == nil {
				m.Progs = map[uint32]string{}
			}
			m.Progs[k] = p
		}
	case isSectionMap(name) && len(ms.Contents) > 0:
		if b, ok := ms.Contents[0].Value.([]byte); ok {
			m.Data = append([]byte(nil), b...)
		}
	}
	return m, nil
}

func elfProgram(name string, ps *ebpf.ProgramSpec, s *kernel.Set) (*kernel.Program, error) {
	typ, ok := progTypes[ps.Type]
	if !ok {
		// libbpf refuses such an object ("missing BPF prog type, check
		// ELF section name"), and the kernel a program without a type.
		return nil, fmt.Errorf("section %q names no BPF program type (libbpf's SEC() names: \"xdp\", \"tc\", \"kprobe/...\")", ps.SectionName)
	}
	prog := &kernel.Program{
		Name:  name,
		Type:  typ,
		Insns: append(asm.Instructions(nil), ps.Instructions...),
	}
	if len(prog.Insns) == 0 {
		return nil, errors.New("no instructions")
	}
	if sym := prog.Insns[0].Symbol(); sym == "" {
		prog.Insns[0] = prog.Insns[0].WithSymbol(name)
	} else if sym != name {
		return nil, fmt.Errorf("first instruction is function %s", sym)
	}
	for i, ins := range prog.Insns {
		if sym := ins.Symbol(); sym != "" {
			f := kernel.Func{Name: sym, Start: i, StackDepth: -1}
			if fn := btf.FuncMetadata(&prog.Insns[i]); fn != nil {
				f.Prototype = Prototype(fn)
			}
			prog.Funcs = append(prog.Funcs, f)
		}
		if li, ok := ins.Source().(*btf.Line); ok && len(prog.Funcs) > 0 {
			f := &prog.Funcs[len(prog.Funcs)-1]
			f.Lines = append(f.Lines, kernel.LineInfo{
				Insn: i,
				File: li.FileName(),
				Line: int(li.LineNumber()),
				Col:  int(li.LineColumn()),
				Text: li.Line(),
			})
		}
		if ins.IsLoadFromMap() {
			if ref := ins.Reference(); s.Map(ref) == nil {
				return nil, fmt.Errorf("instruction %d: reference to unknown map %q", i, ref)
			}
		}
	}
	return prog, nil
}

// Prototype formats a BTF function as a C prototype:
// "int entry(struct __sk_buff *skb)".
func Prototype(fn *btf.Func) string {
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return fn.Name + "()"
	}
	return cdecl(proto.Return, fn.Name+"("+params(proto)+")")
}

func params(proto *btf.FuncProto) string {
	if len(proto.Params) == 0 {
		return "void"
	}
	var ps []string
	for i, p := range proto.Params {
		if _, isVoid := p.Type.(*btf.Void); (isVoid || p.Type == nil) && i == len(proto.Params)-1 && i > 0 {
			ps = append(ps, "...")
			continue
		}
		ps = append(ps, cdecl(p.Type, p.Name))
	}
	return strings.Join(ps, ", ")
}

// cdecl writes a C declaration of inner (a name, or a declarator being built
// from the outside in) with type t.
func cdecl(t btf.Type, inner string) string {
	with := func(base string) string {
		if inner == "" {
			return base
		}
		return base + " " + inner
	}
	switch t := t.(type) {
	case nil, *btf.Void:
		return with("void")
	case *btf.Pointer:
		switch t.Target.(type) {
		case *btf.FuncProto, *btf.Array:
			return cdecl(t.Target, "(*"+inner+")")
		}
		return cdecl(t.Target, "*"+inner)
	case *btf.FuncProto:
		return cdecl(t.Return, inner+"("+params(t)+")")
	case *btf.Array:
		return cdecl(t.Type, fmt.Sprintf("%s[%d]", inner, t.Nelems))
	case *btf.Const:
		if _, isPtr := t.Type.(*btf.Pointer); isPtr {
			return cdecl(t.Type, "const "+inner)
		}
		return "const " + cdecl(t.Type, inner)
	case *btf.Volatile:
		if _, isPtr := t.Type.(*btf.Pointer); isPtr {
			return cdecl(t.Type, "volatile "+inner)
		}
		return "volatile " + cdecl(t.Type, inner)
	case *btf.Restrict:
		return cdecl(t.Type, "restrict "+inner)
	case *btf.TypeTag:
		return cdecl(t.Type, inner)
	case *btf.Struct:
		return with("struct " + anon(t.Name))
	case *btf.Union:
		return with("union " + anon(t.Name))
	case *btf.Enum:
		return with("enum " + anon(t.Name))
	case *btf.Fwd:
		return with(t.Kind.String() + " " + t.Name)
	case *btf.Int:
		return with(t.Name)
	case *btf.Float:
		return with(t.Name)
	case *btf.Typedef:
		return with(t.Name)
	}
	return with(t.TypeName())
}

func anon(name string) string {
	if name == "" {
		return "(anon)"
	}
	return name
}
