package capture

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/jitscope/jitscope/kernel"
)

// builder checks capture.json against the binary files and assembles the
// Capture.
type builder struct {
	dir       string
	rc        *JSONCapture
	insns     asm.Instructions
	slotIndex []int // slot → instruction index, -1 inside an ld_imm64
	xlated    []byte
	jited     []byte
	empty     []byte
}

// jsonErr is a problem with capture.json.
func jsonErr(format string, args ...any) error {
	return &Error{File: FileCapture, Err: fmt.Errorf(format, args...)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (b *builder) build() (*Capture, error) {
	c := &Capture{Dir: b.dir, Xlated: b.xlated, Jited: b.jited, JitedEmpty: b.empty}
	if err := b.kernelInfo(c); err != nil {
		return nil, err
	}
	if err := b.program(c); err != nil {
		return nil, err
	}
	if b.empty != nil && len(b.empty) != len(b.jited) {
		return nil, &Error{File: FileJitedEmpty, Err: fmt.Errorf("%d bytes, but jited.bin has %d (must be the same length)", len(b.empty), len(b.jited))}
	}
	if err := b.functions(c); err != nil {
		return nil, err
	}
	if err := b.maps(c); err != nil {
		return nil, err
	}
	if err := b.checkXlated(c); err != nil {
		return nil, err
	}
	if err := b.references(c); err != nil {
		return nil, err
	}
	if err := b.runs(c); err != nil {
		return nil, err
	}
	if pa := b.rc.ProgArrays; pa != nil {
		c.EmptyImage = pa.EmptyImage
	}
	if b.empty == nil && strings.HasPrefix(c.EmptyImage, FileJitedEmpty) {
		return nil, &Error{File: FileJitedEmpty, Err: fmt.Errorf("missing, but capture.json prog_arrays.empty_image says %q", c.EmptyImage)}
	}
	if err := b.set(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *builder) kernelInfo(c *Capture) error {
	k := b.rc.Kernel
	if k == nil {
		return jsonErr("no \"kernel\" object")
	}
	if k.Name == "" {
		return jsonErr("kernel: no name")
	}
	arch, err := kernel.ParseArch(k.Arch)
	if err != nil {
		return jsonErr("kernel: arch: %v", err)
	}
	ki := KernelInfo{
		Name: k.Name, Arch: arch, Release: k.Release, Version: k.Version,
		UnameVersion: k.UnameVersion, Package: k.Package, Boot: k.Boot,
		CPU: k.CPU, Cmdline: k.Cmdline,
		Config:      map[string]string{},
		CPUFeatures: append([]string(nil), k.CPUFeatures...),
		Mitigations: map[string]string{},
		Sysctl:      map[string]string{},
	}
	for _, key := range sortedKeys(k.Config) {
		v, ok, err := flatValue(k.Config[key])
		if err != nil {
			return jsonErr("kernel.config[%q]: %v", key, err)
		}
		if ok {
			ki.Config[key] = v
		}
	}
	for _, key := range sortedKeys(k.Sysctl) {
		v, ok, err := flatValue(k.Sysctl[key])
		if err != nil {
			return jsonErr("kernel.sysctl[%q]: %v", key, err)
		}
		if ok {
			ki.Sysctl[key] = v
		}
	}
	for key, v := range k.Mitigations {
		ki.Mitigations[key] = v
	}
	if o := k.Observed; o != nil {
		if o.ReturnThunk != nil {
			ki.ReturnThunk = *o.ReturnThunk
		}
		ki.IndirectThunks = append([]string(nil), o.IndirectThunks...)
	}
	c.Kernel = ki
	return nil
}

func (b *builder) program(c *Capture) error {
	p := b.rc.Program
	if p == nil {
		return jsonErr("no \"program\" object")
	}
	if p.Name == "" {
		return jsonErr("program: no name")
	}
	slots := len(b.slotIndex)
	if p.XlatedInsns != nil && *p.XlatedInsns != slots {
		return jsonErr("program: xlated_insns %d, but xlated.bin has %d slots", *p.XlatedInsns, slots)
	}
	if p.JitedLen != nil && *p.JitedLen != len(b.jited) {
		return jsonErr("program: jited_len %d, but jited.bin has %d bytes", *p.JitedLen, len(b.jited))
	}
	c.Program = p.Name
	c.Info = ProgramInfo{
		Name: p.Name, Type: p.Type, TypeID: p.TypeID, Tag: p.Tag,
		Source: p.Source, Section: p.Section, Scenario: p.Scenario, ID: p.ID,
		XlatedInsns: slots, JitedLen: len(b.jited), Build: p.Build,
	}
	return nil
}

func (b *builder) functions(c *Capture) error {
	funcs := b.rc.Functions
	if len(funcs) == 0 {
		return jsonErr("no functions")
	}
	slots := len(b.slotIndex)
	nextSlot, nextByte := 0, 0
	seen := map[string]int{}
	for i, f := range funcs {
		where := fmt.Sprintf("functions[%d]", i)
		if f.Name == "" {
			return jsonErr("%s: no name", where)
		}
		if j, dup := seen[f.Name]; dup {
			return jsonErr("%s: name %q repeats functions[%d]", where, f.Name, j)
		}
		seen[f.Name] = i
		if f.InsnStart == nil || f.InsnCount == nil {
			return jsonErr("%s: no insn_start/insn_count", where)
		}
		start, count := *f.InsnStart, *f.InsnCount
		switch {
		case start < 0:
			return jsonErr("%s: insn_start %d is negative", where, start)
		case start >= slots:
			return jsonErr("%s: insn_start %d beyond xlated.bin (%d slots)", where, start, slots)
		case count < 1:
			return jsonErr("%s: insn_count %d (want at least 1)", where, count)
		case count > slots-start:
			return jsonErr("%s: insn_start %d + insn_count %d beyond xlated.bin (%d slots)", where, start, count, slots)
		case start != nextSlot:
			return jsonErr("%s: insn_start %d, but the functions before it end at slot %d (functions must tile xlated.bin)", where, start, nextSlot)
		case b.slotIndex[start] < 0:
			return jsonErr("%s: insn_start %d is the second slot of an ld_imm64", where, start)
		}
		nextSlot = start + count
		if f.JitedOffset == nil || f.JitedLen == nil {
			return jsonErr("%s: no jited_offset/jited_len", where)
		}
		off, n := *f.JitedOffset, *f.JitedLen
		switch {
		case off < 0:
			return jsonErr("%s: jited_offset %d is negative", where, off)
		case n < 1:
			return jsonErr("%s: jited_len %d (want at least 1)", where, n)
		case off > len(b.jited) || n > len(b.jited)-off:
			return jsonErr("%s: jited_offset %d + jited_len %d beyond jited.bin (%d bytes)", where, off, n, len(b.jited))
		case off != nextByte:
			return jsonErr("%s: jited_offset %d, but the functions before it end at byte %d (functions must tile jited.bin)", where, off, nextByte)
		}
		nextByte = off + n
		addr, err := parseAddr(f.Address)
		if err != nil {
			return jsonErr("%s: %v", where, err)
		}
		depth := -1
		if f.StackDepth != nil {
			if *f.StackDepth < 0 {
				return jsonErr("%s: stack_depth %d is negative", where, *f.StackDepth)
			}
			depth = *f.StackDepth
		}
		fb := FuncBytes{
			Name: f.Name, Ksym: f.Ksym, Tag: f.FuncTag, Address: addr,
			Offset: off, Len: n, InsnStart: start, InsnCount: count,
			Start: b.slotIndex[start], StackDepth: depth,
			Bytes: b.jited[off : off+n : off+n],
		}
		if b.empty != nil {
			fb.EmptyBytes = b.empty[off : off+n : off+n]
		}
		for j, li := range f.LineInfo {
			lw := fmt.Sprintf("%s: line_info[%d]", where, j)
			if li.Insn < start || li.Insn >= start+count {
				return jsonErr("%s: insn %d outside the function (slots %d..%d)", lw, li.Insn, start, start+count-1)
			}
			idx := b.slotIndex[li.Insn]
			if idx < 0 {
				return jsonErr("%s: insn %d is the second slot of an ld_imm64", lw, li.Insn)
			}
			if li.Offset < 0 || li.Offset > n {
				return jsonErr("%s: offset %d outside the function's image (%d bytes)", lw, li.Offset, n)
			}
			fb.Lines = append(fb.Lines, JitedLine{Slot: li.Insn, Insn: idx, Offset: li.Offset, Line: li.Line, Col: li.Col})
		}
		c.Funcs = append(c.Funcs, fb)
	}
	if nextSlot != slots {
		return jsonErr("functions end at slot %d, but xlated.bin has %d slots", nextSlot, slots)
	}
	if nextByte != len(b.jited) {
		return jsonErr("functions end at byte %d, but jited.bin has %d bytes", nextByte, len(b.jited))
	}
	return nil
}

func (b *builder) maps(c *Capture) error {
	names := map[string]int{}
	ids := map[int]int{}
	for i, m := range b.rc.Maps {
		where := fmt.Sprintf("maps[%d]", i)
		if m.Name == "" {
			return jsonErr("%s: no name", where)
		}
		if j, dup := names[m.Name]; dup {
			return jsonErr("%s: name %q repeats maps[%d]", where, m.Name, j)
		}
		names[m.Name] = i
		if m.ID < 1 {
			return jsonErr("%s (%s): id %d (want a kernel map id, at least 1)", where, m.Name, m.ID)
		}
		if j, dup := ids[m.ID]; dup {
			return jsonErr("%s (%s): id %d repeats maps[%d]", where, m.Name, m.ID, j)
		}
		ids[m.ID] = i
		mi := MapInfo{
			ID: m.ID, Name: m.Name, Type: m.Type, MaxEntries: m.MaxEntries,
			KeySize: m.KeySize, ValueSize: m.ValueSize, Flags: m.Flags,
		}
		if m.KernelName != nil {
			mi.KernelName = *m.KernelName
		}
		var err error
		if m.Address != nil {
			if mi.Address, err = parseAddr(*m.Address); err != nil {
				return jsonErr("%s (%s): address: %v", where, m.Name, err)
			}
		}
		if m.ValueAddress != nil {
			if mi.ValueAddress, err = parseAddr(*m.ValueAddress); err != nil {
				return jsonErr("%s (%s): value_address: %v", where, m.Name, err)
			}
		}
		for _, k := range sortedKeys(m.Entries) {
			e := m.Entries[k]
			ew := fmt.Sprintf("%s (%s): entries[%q]", where, m.Name, k)
			key, err := strconv.ParseUint(k, 10, 32)
			if err != nil {
				return jsonErr("%s: key is not a 32-bit decimal number", ew)
			}
			if m.MaxEntries > 0 && key >= uint64(m.MaxEntries) {
				return jsonErr("%s: key %d beyond max_entries %d", ew, key, m.MaxEntries)
			}
			if e.Prog == "" {
				return jsonErr("%s: no prog", ew)
			}
			addr, err := parseAddr(e.Address)
			if err != nil {
				return jsonErr("%s: %v", ew, err)
			}
			if mi.Entries == nil {
				mi.Entries = map[uint32]Entry{}
			}
			mi.Entries[uint32(key)] = Entry{Prog: e.Prog, Address: addr, Tag: e.Tag}
		}
		c.Maps = append(c.Maps, mi)
	}
	return nil
}

// checkXlated checks the references of xlated.bin against capture.json:
// bpf-to-bpf calls target the start of the function their imm names, and
// map loads name listed maps.
func (b *builder) checkXlated(c *Capture) error {
	mapIDs := map[int]bool{}
	for _, m := range c.Maps {
		mapIDs[m.ID] = true
	}
	for s, idx := range b.slotIndex {
		if idx < 0 {
			continue
		}
		ins := b.insns[idx]
		switch {
		case ins.OpCode.Class() == asm.JumpClass && ins.OpCode.JumpOp() == asm.Call && ins.Src == asm.PseudoCall:
			target := s + int(ins.Offset) + 1
			fi := ins.Constant
			if fi < 0 || fi >= int64(len(c.Funcs)) {
				return &Error{File: FileXlated, Err: fmt.Errorf("slot %d: bpf-to-bpf call of function %d, but capture.json lists %d functions", s, fi, len(c.Funcs))}
			}
			if f := c.Funcs[fi]; f.InsnStart != target {
				return &Error{File: FileXlated, Err: fmt.Errorf("slot %d: bpf-to-bpf call to slot %d, but functions[%d] (%s) starts at slot %d", s, target, fi, f.Name, f.InsnStart)}
			}
		case ins.OpCode.IsDWordLoad() && (ins.Src == asm.PseudoMapFD || ins.Src == asm.PseudoMapValue):
			id := int(int32(uint32(ins.Constant)))
			if !mapIDs[id] {
				return &Error{File: FileXlated, Err: fmt.Errorf("slot %d: ld_imm64 of map id %d, which capture.json does not list", s, id)}
			}
		}
	}
	return nil
}

func (b *builder) references(c *Capture) error {
	mapIDs := map[int]bool{}
	for _, m := range c.Maps {
		mapIDs[m.ID] = true
	}
	for i, r := range b.rc.References {
		where := fmt.Sprintf("references[%d]", i)
		var fn *FuncBytes
		for j := range c.Funcs {
			if c.Funcs[j].Name == r.Function {
				fn = &c.Funcs[j]
			}
		}
		if fn == nil {
			return jsonErr("%s: function %q is not in functions", where, r.Function)
		}
		if r.Field < 0 || r.Size < 1 || r.Field > fn.Len || r.Size > fn.Len-r.Field {
			return jsonErr("%s: field %d, size %d outside %s (%d bytes)", where, r.Field, r.Size, fn.Name, fn.Len)
		}
		if r.Offset < 0 || r.Offset >= fn.Len {
			return jsonErr("%s: offset %d outside %s (%d bytes)", where, r.Offset, fn.Name, fn.Len)
		}
		target, err := parseAddr(r.Target)
		if err != nil {
			return jsonErr("%s: target: %v", where, err)
		}
		ref := Reference{
			Function: r.Function, Offset: r.Offset, Field: r.Field, Size: r.Size,
			Kind: r.Kind, Target: target, What: r.What, Symbol: r.Symbol,
			ValueOffset: r.ValueOffset, Insn: -1,
		}
		if r.MapID != nil {
			if !mapIDs[*r.MapID] {
				return jsonErr("%s: map_id %d is not in maps", where, *r.MapID)
			}
			ref.MapID = *r.MapID
		}
		if r.Insn != nil {
			if *r.Insn < 0 || *r.Insn >= len(b.slotIndex) {
				return jsonErr("%s: insn %d beyond xlated.bin (%d slots)", where, *r.Insn, len(b.slotIndex))
			}
			ref.Insn = *r.Insn
		}
		c.References = append(c.References, ref)
	}
	return nil
}

func (b *builder) runs(c *Capture) error {
	for i, r := range b.rc.Run {
		where := fmt.Sprintf("run[%d]", i)
		data, err := hex.DecodeString(r.DataHex)
		if err != nil {
			return jsonErr("%s: data_hex: %v", where, err)
		}
		run := Run{
			Note: r.Note, Input: r.Input, Data: data, CtxDesc: r.Ctx,
			Retval: r.Retval, Notes: r.Notes,
		}
		// Globals are numbers, except strings (format strings in .rodata).
		for sec, vars := range r.GlobalsAfter {
			for name, raw := range vars {
				var n int64
				var s string
				switch {
				case json.Unmarshal(raw, &n) == nil:
					if run.GlobalsAfter == nil {
						run.GlobalsAfter = map[string]map[string]int64{}
					}
					if run.GlobalsAfter[sec] == nil {
						run.GlobalsAfter[sec] = map[string]int64{}
					}
					run.GlobalsAfter[sec][name] = n
				case json.Unmarshal(raw, &s) == nil:
					if run.GlobalStrings == nil {
						run.GlobalStrings = map[string]map[string]string{}
					}
					if run.GlobalStrings[sec] == nil {
						run.GlobalStrings[sec] = map[string]string{}
					}
					run.GlobalStrings[sec][name] = s
				default:
					return jsonErr("%s: globals_after[%q][%q]: want a number or a string", where, sec, name)
				}
			}
		}
		if r.CtxHex != "" {
			if run.Ctx, err = hex.DecodeString(r.CtxHex); err != nil {
				return jsonErr("%s: ctx_hex: %v", where, err)
			}
		}
		for _, sec := range sortedKeys(r.GlobalsAfterHex) {
			v, err := hex.DecodeString(r.GlobalsAfterHex[sec])
			if err != nil {
				return jsonErr("%s: globals_after_hex[%q]: %v", where, sec, err)
			}
			if run.GlobalsAfterHex == nil {
				run.GlobalsAfterHex = map[string][]byte{}
			}
			run.GlobalsAfterHex[sec] = v
		}
		c.Runs = append(c.Runs, run)
	}
	return nil
}

// set builds the kernel.Set and its placement.
func (b *builder) set(c *Capture) error {
	prog := &kernel.Program{
		Name:   c.Program,
		Type:   c.Info.Type,
		Insns:  b.insns,
		Xlated: true,
		Tag:    c.Info.Tag,
	}
	for i, f := range c.Funcs {
		kf := kernel.Func{
			Name:       f.Name,
			Start:      f.Start,
			Prototype:  b.rc.Functions[i].Prototype,
			StackDepth: f.StackDepth,
			Ksym:       f.Ksym,
		}
		for _, l := range f.Lines {
			kf.Lines = append(kf.Lines, kernel.LineInfo{Insn: l.Insn, Line: l.Line, Col: l.Col})
		}
		prog.Funcs = append(prog.Funcs, kf)
	}
	scenario := c.Info.Scenario
	if scenario == "" {
		scenario = filepath.Base(filepath.Dir(filepath.Clean(c.Dir)))
	}
	s := &kernel.Set{
		Name: c.Kernel.Name + "/" + scenario + "/" + c.Program,
		Description: fmt.Sprintf("kernel capture: %s program %s as Linux %s (%s) JITed it, %d function(s), %d bytes of image",
			orUnknown(c.Info.Type), c.Program, orUnknown(c.Kernel.Release), c.Kernel.Name, len(c.Funcs), len(b.jited)),
		Source:   c.Dir,
		Programs: []*kernel.Program{prog},
	}
	pl := s.Placement(c.Kernel.Arch)
	pl.Kernel = c.Kernel.Name
	pl.Funcs = map[string]uint64{}
	pl.Maps = map[string]uint64{}
	pl.Values = map[string]uint64{}
	pl.Symbols = map[string]uint64{}
	pl.Layout = map[string]int{}
	pl.Config = map[string]string{}
	for _, f := range c.Funcs {
		pl.Funcs[f.Name] = f.Address
		if f.Ksym != "" {
			pl.Funcs[f.Ksym] = f.Address
		}
	}
	for i, m := range c.Maps {
		km := &kernel.Map{
			Name: m.Name, Type: m.Type, KeySize: m.KeySize, ValueSize: m.ValueSize,
			MaxEntries: m.MaxEntries, ID: m.ID,
		}
		if m.Address != 0 {
			pl.Maps[m.Name] = m.Address
		}
		if m.ValueAddress != 0 {
			pl.Values[m.Name] = m.ValueAddress
		}
		keys := make([]uint32, 0, len(m.Entries))
		for k := range m.Entries {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(x, y int) bool { return keys[x] < keys[y] })
		for _, k := range keys {
			e := m.Entries[k]
			if km.Progs == nil {
				km.Progs = map[uint32]string{}
			}
			km.Progs[k] = e.Prog
			if have, ok := pl.Funcs[e.Prog]; ok && have != e.Address {
				return jsonErr("maps[%d] (%s): entries[\"%d\"]: program %s at 0x%016x, but %s is at 0x%016x", i, m.Name, k, e.Prog, e.Address, e.Prog, have)
			}
			pl.Funcs[e.Prog] = e.Address
		}
		s.Maps = append(s.Maps, km)
	}
	for _, name := range sortedKeys(b.rc.Symbols) {
		addr, err := parseAddr(b.rc.Symbols[name])
		if err != nil {
			return jsonErr("symbols[%q]: %v", name, err)
		}
		pl.Symbols[name] = addr
	}
	for k, v := range b.rc.Layout {
		pl.Layout[k] = v
	}
	for k, v := range c.Kernel.Config {
		pl.Config[k] = v
	}
	// A null option is one the kernel's .config does not set: for the JIT
	// that is "n" (CONFIG_ARM64_BTI_KERNEL null on the Debian arm64 build
	// means no BTI, whatever a profile's default says).
	for k, raw := range b.rc.Kernel.Config {
		if _, ok, _ := flatValue(raw); !ok && strings.HasPrefix(k, "CONFIG_") {
			pl.Config[k] = "n"
		}
	}
	for _, f := range c.Kernel.CPUFeatures {
		pl.Config["cpu:"+f] = "y"
	}
	for k, v := range c.Kernel.Sysctl {
		pl.Config["sysctl:"+k] = v
	}
	if c.Kernel.ReturnThunk != "" {
		pl.Config["observed:return_thunk"] = c.Kernel.ReturnThunk
	}
	c.Set = s
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
