// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // register the arm64 backend
	_ "github.com/jitscope/jitscope/jit/x86"   // register the x86-64 backend
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// Snapshot is one program as the running kernel holds it, in the capture
// format: the kernel's xlated instructions, its image, and the facts of
// the load (addresses, maps, prog-array slots, symbols, layout, the host's
// configuration). Capture is what dump --compare checks; the files are what
// Save writes (a directory that `jitscope dump DIR --compare` reads again).
type Snapshot struct {
	ID      uint32
	Info    *RawInfo
	Capture *capture.Capture
	// Files are the capture directory's files (capture.json, xlated.bin,
	// jited.bin).
	Files map[string][]byte
	// FromImage lists the facts that only the image itself tells (map
	// addresses, per-CPU offsets), read out of it at the fields where
	// jitscope's JIT puts them.
	FromImage []string
}

// Reader reads programs from the running kernel.
type Reader struct {
	Host     *Host
	Kallsyms *Kallsyms
	// StackDepths gives the verifier's stack depth per function (from the
	// verifier log of a program jitscope loaded itself); nil: computed.
	StackDepths map[uint32][]int
	// ProfileName is the profile the user chose ("" for the host's); the
	// image fields are paired with that profile's JIT.
	ProfileName string
}

// NewReader detects the host and reads kallsyms.
func NewReader(o HostOptions) (*Reader, error) {
	h, err := DetectHost(o)
	if err != nil {
		return nil, err
	}
	ks, err := ReadKallsyms(filepath.Join(o.Root, "/proc/kallsyms"))
	if err != nil {
		return nil, err
	}
	return &Reader{Host: h, Kallsyms: ks}, nil
}

// Profile returns the host's JIT profile (or the named one).
func (r *Reader) Profile(name string) (*jit.Profile, error) {
	if name == "" {
		name = r.ProfileName
	}
	if name == "" {
		name = r.Host.ProfileName()
	}
	p, err := jit.LookupProfile(r.Host.Arch, name)
	if err != nil {
		return nil, fmt.Errorf("host kernel %s (%s): %w (choose one with --profile)", r.Host.Release, r.Host.Arch, err)
	}
	return p, nil
}

// ProgSummary is one line of `jitscope kernel list`.
type ProgSummary struct {
	ID        uint32        `json:"id"`
	Type      string        `json:"type"`
	Name      string        `json:"name"`
	Tag       string        `json:"tag"`
	JitedLen  int           `json:"jited_len"`
	XlatedLen int           `json:"xlated_len"`
	Funcs     int           `json:"functions"`
	LoadTime  time.Duration `json:"load_time_ns"` // since boot
	Maps      []uint32      `json:"map_ids"`
}

// progType names a program type as libbpf does ("sched_cls").
func progType(t uint32) string {
	pt := ebpf.ProgramType(t)
	s := pt.String()
	if n, ok := libbpfTypeNames[pt]; ok {
		return n
	}
	return strings.ToLower(s)
}

var libbpfTypeNames = map[ebpf.ProgramType]string{
	ebpf.SocketFilter: "socket_filter", ebpf.Kprobe: "kprobe", ebpf.SchedCLS: "sched_cls",
	ebpf.SchedACT: "sched_act", ebpf.TracePoint: "tracepoint", ebpf.XDP: "xdp",
	ebpf.PerfEvent: "perf_event", ebpf.CGroupSKB: "cgroup_skb", ebpf.CGroupSock: "cgroup_sock",
	ebpf.LWTIn: "lwt_in", ebpf.LWTOut: "lwt_out", ebpf.LWTXmit: "lwt_xmit", ebpf.SockOps: "sock_ops",
	ebpf.SkSKB: "sk_skb", ebpf.CGroupDevice: "cgroup_device", ebpf.SkMsg: "sk_msg",
	ebpf.RawTracepoint: "raw_tracepoint", ebpf.CGroupSockAddr: "cgroup_sock_addr",
	ebpf.LWTSeg6Local: "lwt_seg6local", ebpf.LircMode2: "lirc_mode2", ebpf.SkReuseport: "sk_reuseport",
	ebpf.FlowDissector: "flow_dissector", ebpf.CGroupSysctl: "cgroup_sysctl",
	ebpf.RawTracepointWritable: "raw_tracepoint_writable", ebpf.CGroupSockopt: "cgroup_sockopt",
	ebpf.Tracing: "tracing", ebpf.StructOps: "struct_ops", ebpf.Extension: "ext", ebpf.LSM: "lsm",
	ebpf.SkLookup: "sk_lookup", ebpf.Syscall: "syscall", ebpf.Netfilter: "netfilter",
}

// List returns every program loaded in the kernel, by id.
func List() ([]ProgSummary, error) {
	var out []ProgSummary
	id := ebpf.ProgramID(0)
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing programs (BPF_PROG_GET_NEXT_ID after %d): %w", id, err)
		}
		id = next
		info, err := infoByID(uint32(id))
		if errors.Is(err, os.ErrNotExist) {
			continue // unloaded meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("program %d: %w", id, err)
		}
		out = append(out, ProgSummary{
			ID: info.ID, Type: progType(info.Type), Name: info.Name, Tag: info.Tag,
			JitedLen: len(info.Jited), XlatedLen: len(info.Xlated) / asm.InstructionSize,
			Funcs: max(len(info.Ksyms), 1), LoadTime: time.Duration(info.LoadTime), Maps: info.MapIDs,
		})
	}
}

// IDs returns the ids of every loaded program.
func IDs() ([]uint32, error) {
	var out []uint32
	id := ebpf.ProgramID(0)
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		id = next
		out = append(out, uint32(id))
	}
}

func infoByID(id uint32) (*RawInfo, error) {
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return readInfo(p.FD())
}

// Snapshot reads program id.
func (r *Reader) Snapshot(id uint32) (*Snapshot, error) {
	info, err := infoByID(id)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("program %d: no such program loaded", id)
	}
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", id, err)
	}
	return r.snapshot(info)
}

// x86 kernel symbols the JIT itself may jump to or through.
var jitSymbols = []string{
	"__bpf_call_base", "__x86_indirect_thunk_rcx", "__x86_indirect_its_thunk_rcx",
	"__x86_indirect_jump_thunk_rcx", "__x86_return_thunk", "srso_return_thunk",
	"srso_alias_return_thunk", "retbleed_return_thunk", "call_depth_return_thunk",
	"its_return_thunk", "this_cpu_off", "__bpf_prog_enter", "__bpf_prog_exit",
}

// cJSON is capture.json as written for a program of the running kernel.
type cJSON = capture.JSONCapture

func ref[T any](v T) *T { return &v }

// jsonString is s as a JSON string (config and sysctl values).
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func hexAddr(a uint64) string { return fmt.Sprintf("0x%016x", a) }

func (r *Reader) snapshot(info *RawInfo) (*Snapshot, error) {
	where := fmt.Sprintf("program %d (%s)", info.ID, info.Name)
	if len(info.Xlated) == 0 {
		return nil, fmt.Errorf("%s: the kernel returned no instructions (kernel.kptr_restrict or missing CAP_BPF/CAP_PERFMON)", where)
	}
	if len(info.Jited) == 0 {
		return nil, fmt.Errorf("%s: no JIT image (net.core.bpf_jit_enable=0 when it was loaded, or an offloaded program)", where)
	}
	if len(info.Ksyms) == 0 || info.Ksyms[0] == 0 {
		return nil, fmt.Errorf("%s: function addresses are hidden (kernel.kptr_restrict)", where)
	}
	lens := info.FuncLens
	if len(lens) == 0 {
		lens = []uint32{uint32(len(info.Jited))}
	}
	if len(lens) != len(info.Ksyms) {
		return nil, fmt.Errorf("%s: %d function lengths but %d function addresses", where, len(lens), len(info.Ksyms))
	}
	starts, err := funcStarts(info, len(lens))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	h := r.Host
	cj := &cJSON{
		Format: capture.Format, Symbols: map[string]string{}, References: []capture.JSONRef{},
		Layout: h.Layout, LayoutSource: h.LayoutSource, ProgArrays: &capture.JSONProgArrays{},
		Origin: map[string]string{"style": "live", "converted_by": "jitscope kernel (live/)"},
	}
	if cj.Layout == nil {
		cj.Layout = map[string]int{}
	}
	cj.Kernel = &capture.JSONKernel{
		Name: "live-" + h.Release, Arch: string(h.Arch), Release: h.Release, Version: h.Version,
		UnameVersion: h.Uname, CPU: h.CPU, Config: map[string]json.RawMessage{}, CPUFeatures: []string{},
		Mitigations: h.Vulnerabilities, Sysctl: map[string]json.RawMessage{}, Observed: &capture.JSONObserved{},
	}
	// The placement configuration with the user's overrides: CPU flags
	// and sysctls go where the capture format keeps them.
	for k, v := range h.PlacementConfig() {
		switch {
		case strings.HasPrefix(k, "cpu:"):
			if v == "y" {
				cj.Kernel.CPUFeatures = append(cj.Kernel.CPUFeatures, strings.TrimPrefix(k, "cpu:"))
			}
		case strings.HasPrefix(k, "sysctl:"):
			cj.Kernel.Sysctl[strings.TrimPrefix(k, "sysctl:")] = jsonString(v)
		default:
			cj.Kernel.Config[k] = jsonString(v)
		}
	}
	sort.Strings(cj.Kernel.CPUFeatures)
	if h.Arch == kernel.X86_64 {
		rt := h.ReturnThunk
		if v, ok := h.Overrides["observed:return_thunk"]; ok {
			rt = v
		}
		if rt != "" && rt != "none" {
			cj.Kernel.Observed.ReturnThunk = &rt
		}
	}
	cj.Program = &capture.JSONProgram{
		Name: info.Name, Type: progType(info.Type), TypeID: int(info.Type), Tag: info.Tag,
		Scenario: "live", ID: int(info.ID), XlatedInsns: ref(len(info.Xlated) / asm.InstructionSize), JitedLen: ref(len(info.Jited)),
	}
	if cj.Program.Name == "" {
		cj.Program.Name = fmt.Sprintf("prog%d", info.ID)
	}

	// BTF: function names, prototypes, source lines.
	var spec *btf.Spec
	if info.BTFID != 0 {
		if hd, err := btf.NewHandleFromID(btf.ID(info.BTFID)); err == nil {
			spec, _ = hd.Spec(nil)
			hd.Close()
		}
	}
	btfFuncs := map[int]*btf.Func{}
	if spec != nil {
		for _, fi := range info.funcInfos() {
			if t, err := spec.TypeByID(btf.TypeID(fi.TypeID)); err == nil {
				if fn, ok := t.(*btf.Func); ok {
					btfFuncs[int(fi.InsnOff)] = fn
				}
			}
		}
	}
	off := 0
	names := map[string]bool{}
	slots := len(info.Xlated) / asm.InstructionSize
	for i := range lens {
		end := slots
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		addr := info.Ksyms[i]
		ksym, _ := r.Kallsyms.Name(addr)
		name := ""
		if fn := btfFuncs[starts[i]]; fn != nil {
			name = fn.Name
		}
		if name == "" && ksym != "" {
			// bpf_prog_<tag>_<name>
			if rest, ok := strings.CutPrefix(ksym, "bpf_prog_"); ok && len(rest) > 17 {
				name = rest[17:]
			}
		}
		if name == "" {
			name = cj.Program.Name
			if i > 0 {
				name = fmt.Sprintf("%s_func%d", cj.Program.Name, i)
			}
		}
		if i == 0 {
			// The program's name is its main function's.
			cj.Program.Name = name
		}
		for names[name] {
			name += "_"
		}
		names[name] = true
		f := capture.JSONFunc{
			Name: name, Ksym: ksym, InsnStart: ref(starts[i]), InsnCount: ref(end - starts[i]),
			Address: hexAddr(addr), JitedLen: ref(int(lens[i])), JitedOffset: ref(off),
		}
		if i < len(info.ProgTags) {
			f.FuncTag = fmt.Sprintf("%x", info.ProgTags[i][:])
		}
		if fn := btfFuncs[starts[i]]; fn != nil {
			f.Prototype = scenarios.Prototype(fn)
		}
		if ds, ok := r.StackDepths[info.ID]; ok && i < len(ds) {
			d := ds[i]
			f.StackDepth = &d
		}
		cj.Functions = append(cj.Functions, f)
		cj.Symbols[ksym] = hexAddr(addr)
		off += int(lens[i])
	}
	delete(cj.Symbols, "")
	if off != len(info.Jited) {
		return nil, fmt.Errorf("%s: function lengths add up to %d bytes, the image has %d", where, off, len(info.Jited))
	}
	lineTexts := r.lineInfo(info, spec, cj)

	// Kernel symbols: the JIT's own targets and every helper called.
	for _, n := range jitSymbols {
		if a, ok := r.Kallsyms.Addr(n); ok {
			cj.Symbols[n] = hexAddr(a)
		}
	}
	callBase, ok := r.Kallsyms.Addr("__bpf_call_base")
	if !ok {
		return nil, fmt.Errorf("%s: __bpf_call_base is not in kallsyms", where)
	}
	for s := 0; s < slots; s++ {
		raw := info.Xlated[s*8:]
		if raw[0] == 0x18 {
			s++
			continue
		}
		if raw[0] == 0x85 && raw[1]>>4 != 1 {
			imm := int32(binary.LittleEndian.Uint32(raw[4:]))
			if raw[1]>>4 == 0 && imm == int32(asm.FnTailCall) {
				continue
			}
			a := callBase + uint64(int64(imm))
			if n, ok := r.Kallsyms.Name(a); ok {
				cj.Symbols[n] = hexAddr(a)
			}
		}
	}

	// Maps, and the programs sitting in prog-array slots.
	mapNames := map[string]bool{}
	hasProgArray := false
	for _, id := range info.MapIDs {
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			return nil, fmt.Errorf("%s: map %d: %w", where, id, err)
		}
		cm, err := r.mapInfo(m, id, mapNames, names, cj)
		m.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: map %d: %w", where, id, err)
		}
		if cm.Type == "prog_array" {
			hasProgArray = true
		}
		cj.Maps = append(cj.Maps, cm)
	}
	cj.ProgArrays.EmptyImage = "n/a (the program uses no prog array)"
	if hasProgArray {
		cj.ProgArrays.EmptyImage = "not captured"
	}

	snap := &Snapshot{ID: info.ID, Info: info}
	if err := r.pairFromImage(snap, cj); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	c, files, err := loadCapture(cj, info)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	// Source text of the line info (the capture format keeps only numbers).
	prog := c.Prog()
	for fi := range prog.Funcs {
		for li := range prog.Funcs[fi].Lines {
			l := &prog.Funcs[fi].Lines[li]
			if t, ok := lineTexts[l.Insn]; ok {
				l.File, l.Text = t.file, t.text
			}
		}
	}
	snap.Capture, snap.Files = c, files
	return snap, nil
}

// funcStarts finds where each function starts in xlated (in slots): from
// BTF func_info when the program has it, else from the targets of the
// bpf-to-bpf calls (src=1, imm = function index).
func funcStarts(info *RawInfo, n int) ([]int, error) {
	if fis := info.funcInfos(); len(fis) == n {
		var s []int
		for _, f := range fis {
			s = append(s, int(f.InsnOff))
		}
		return s, nil
	}
	slots := len(info.Xlated) / asm.InstructionSize
	set := map[int]bool{0: true}
	for s := 0; s < slots; s++ {
		raw := info.Xlated[s*8:]
		if raw[0] == 0x18 {
			s++
			continue
		}
		if raw[0] == 0x85 && raw[1]>>4 == 1 {
			t := s + 1 + int(int16(binary.LittleEndian.Uint16(raw[2:])))
			if t < 0 || t >= slots {
				return nil, fmt.Errorf("xlated slot %d: bpf-to-bpf call to slot %d, outside the program", s, t)
			}
			set[t] = true
		}
	}
	var out []int
	for s := range set {
		out = append(out, s)
	}
	sort.Ints(out)
	if len(out) != n {
		return nil, fmt.Errorf("%d function starts in the instructions but %d JITed functions", len(out), n)
	}
	return out, nil
}

type lineText struct{ file, text string }

// lineInfo fills the functions' line_info from BTF line info and the
// jited_line_info addresses; it returns the source text per instruction
// index for the Set.
func (r *Reader) lineInfo(info *RawInfo, spec *btf.Spec, cj *cJSON) map[int]lineText {
	texts := map[int]lineText{}
	lis := info.lineInfos()
	if len(lis) == 0 || len(info.JitedLines) != len(lis) {
		return texts
	}
	var lo btf.LineOffsets
	if spec != nil {
		lo, _ = btf.LoadLineInfos(bytes.NewReader(info.LineInfo), binary.NativeEndian, uint32(len(lis)), spec)
	}
	// slot → instruction index, for the texts keyed like kernel.LineInfo.
	slotIdx := map[int]int{}
	idx := 0
	for s := 0; s < len(info.Xlated)/8; s++ {
		slotIdx[s] = idx
		idx++
		if info.Xlated[s*8] == 0x18 {
			s++
		}
	}
	for i, li := range lis {
		slot := int(li.InsnOff)
		fi := -1
		for j, f := range cj.Functions {
			if slot >= *f.InsnStart && slot < *f.InsnStart+*f.InsnCount {
				fi = j
			}
		}
		if fi < 0 {
			continue
		}
		f := &cj.Functions[fi]
		var base uint64
		fmt.Sscanf(f.Address, "0x%x", &base)
		off := int(info.JitedLines[i] - base)
		if off < 0 || off > *f.JitedLen {
			continue
		}
		f.LineInfo = append(f.LineInfo, capture.JSONLine{Insn: slot, Offset: off, Line: int(li.LineCol >> 10), Col: int(li.LineCol & 0x3ff)})
		if i < len(lo) && lo[i].Line != nil {
			if x, ok := slotIdx[slot]; ok {
				texts[x] = lineText{lo[i].Line.FileName(), strings.TrimSpace(lo[i].Line.Line())}
			}
		}
	}
	return texts
}

// mapTypeNames are the capture format's map type names.
var mapTypeNames = map[ebpf.MapType]string{
	ebpf.Hash: "hash", ebpf.Array: "array", ebpf.ProgramArray: "prog_array",
	ebpf.PerfEventArray: "perf_event_array", ebpf.PerCPUHash: "percpu_hash",
	ebpf.PerCPUArray: "percpu_array", ebpf.StackTrace: "stack_trace", ebpf.CGroupArray: "cgroup_array",
	ebpf.LRUHash: "lru_hash", ebpf.LRUCPUHash: "lru_percpu_hash", ebpf.LPMTrie: "lpm_trie",
	ebpf.ArrayOfMaps: "array_of_maps", ebpf.HashOfMaps: "hash_of_maps", ebpf.RingBuf: "ringbuf",
}

func (r *Reader) mapInfo(m *ebpf.Map, id uint32, mapNames, progNames map[string]bool, cj *cJSON) (capture.JSONMap, error) {
	mi, err := m.Info()
	if err != nil {
		return capture.JSONMap{}, err
	}
	typ, ok := mapTypeNames[mi.Type]
	if !ok {
		typ = strings.ToLower(mi.Type.String())
	}
	name := mi.Name
	if name == "" {
		name = fmt.Sprintf("map%d", id)
	}
	// Global data maps: the kernel calls them "<obj>.bss"; the capture
	// format (and the Set) use the section name.
	for _, sec := range []string{".bss", ".data", ".rodata"} {
		if strings.HasSuffix(name, sec) {
			name = sec
		}
	}
	for mapNames[name] {
		name = fmt.Sprintf("%s#%d", name, id)
	}
	mapNames[name] = true
	cm := capture.JSONMap{ID: int(id), Name: name, KernelName: &mi.Name, Type: typ, MaxEntries: mi.MaxEntries,
		KeySize: mi.KeySize, ValueSize: mi.ValueSize, Flags: uint32(mi.Flags)}
	if mi.Type != ebpf.ProgramArray {
		return cm, nil
	}
	for k := uint32(0); k < mi.MaxEntries; k++ {
		var pid uint32
		if err := m.Lookup(k, &pid); err != nil {
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				continue
			}
			return cm, fmt.Errorf("prog array slot %d: %w", k, err)
		}
		ti, err := infoByID(pid)
		if err != nil {
			return cm, fmt.Errorf("prog array slot %d: program %d: %w", k, pid, err)
		}
		if len(ti.Ksyms) == 0 {
			return cm, fmt.Errorf("prog array slot %d: program %d has no image address", k, pid)
		}
		pname := ti.Name
		if ks, ok := r.Kallsyms.Name(ti.Ksyms[0]); ok {
			if rest, ok := strings.CutPrefix(ks, "bpf_prog_"); ok && len(rest) > 17 {
				pname = rest[17:]
			}
			cj.Symbols[ks] = hexAddr(ti.Ksyms[0])
		}
		// Another program of the same name (or one of this program's
		// functions) is a different placement: keep them apart.
		if progNames[pname] && ti.ID != uint32(cj.Program.ID) {
			pname = fmt.Sprintf("%s#%d", pname, ti.ID)
		}
		if cm.Entries == nil {
			cm.Entries = map[string]capture.JSONEntry{}
		}
		cm.Entries[fmt.Sprint(k)] = capture.JSONEntry{Prog: pname, Address: hexAddr(ti.Ksyms[0]), Tag: ti.Tag}
	}
	return cm, nil
}

// loadCapture turns the JSON and the binaries into a Capture (through the
// capture package's own reader, so a live program is checked exactly as a
// capture directory is).
func loadCapture(cj *cJSON, info *RawInfo) (*capture.Capture, map[string][]byte, error) {
	js, err := capture.EncodeJSON(cj)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{
		capture.FileCapture: js,
		capture.FileXlated:  info.Xlated,
		capture.FileJited:   info.Jited,
	}
	fsys := fstest.MapFS{}
	for n, b := range files {
		fsys["live/"+n] = &fstest.MapFile{Data: b}
	}
	c, err := capture.LoadFS(fsys, "live")
	if err != nil {
		return nil, nil, err
	}
	c.Dir = fmt.Sprintf("kernel program %d", cj.Program.ID)
	c.Set.Source = c.Dir
	return c, files, nil
}

// pairFromImage finds the facts the kernel does not report but the image
// holds: the struct bpf_map * and value addresses of map loads, and
// kernel symbols missing from kallsyms (this_cpu_off without
// CONFIG_KALLSYMS_ALL). jitscope's JIT is run with stand-in addresses;
// each such field it emits is then read from the kernel's image at the
// same place. On arm64 a 64-bit constant is one to four instructions
// depending on its value (emit_a64_mov_i64), so a field read there can
// be longer than the stand-in's and every later instruction of the
// function moves: the JIT is run again with the addresses read until they
// no longer change (a few rounds: each round fixes at least the first
// field that moved). Were the JIT's layout wrong, the values read would be
// garbage, and the comparison that follows would show it.
func (r *Reader) pairFromImage(snap *Snapshot, cj *cJSON) error {
	_, hadCPUOff := cj.Symbols["this_cpu_off"]
	if len(cj.Maps) == 0 && hadCPUOff {
		return nil // nothing the image alone tells
	}
	p, err := r.Profile("")
	if err != nil {
		return nil // no profile: nothing to pair with; Compare says why
	}
	// What was read from the image, by fact, in the order first read.
	var order []string
	read := map[string]string{}
	note := func(key, text string) {
		if _, ok := read[key]; !ok {
			order = append(order, key)
		}
		read[key] = text
	}
	known := map[string]bool{}
	for _, m := range cj.Maps {
		if m.Address != nil {
			known["map "+m.Name] = true
		}
		if m.ValueAddress != nil {
			known["value "+m.Name] = true
		}
	}
	for round := 0; round < 8; round++ {
		c, _, err := loadCapture(cj, snap.Info)
		if err != nil {
			return err
		}
		pl := c.Placement()
		if _, ok := pl.Symbols["this_cpu_off"]; !ok {
			pl.Symbols["this_cpu_off"] = 0x1f000 // stand-in, replaced below
		}
		l, err := kernel.Load(c.Set, c.Program, c.Kernel.Arch, p.LoadOptions())
		if err != nil {
			return nil
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			return nil
		}
		changed := false
		// The first field of each fact is read: it is the one least likely
		// to have moved, were the JIT's layout different from the kernel's.
		done := map[string]bool{}
		set := func(key string, dst **string, val uint64) {
			done[key] = true
			s := hexAddr(val)
			if *dst == nil || **dst != s {
				*dst = &s
				changed = true
			}
		}
		for fi, f := range img.Funcs {
			if fi >= len(c.Funcs) {
				break
			}
			kb := c.Funcs[fi].Bytes
			for _, rl := range f.Relocs {
				if rl.Field < 0 || rl.Field+rl.Size > len(kb) {
					continue
				}
				val, ok := readField(c.Kernel.Arch, rl, kb)
				if !ok {
					continue
				}
				switch rl.What {
				case "map", "map_value":
					for i := range cj.Maps {
						m := &cj.Maps[i]
						if m.Name != rl.Name {
							continue
						}
						if rl.What == "map" && !known["map "+m.Name] && !done["map "+m.Name] {
							set("map "+m.Name, &m.Address, val)
							note("map "+m.Name, fmt.Sprintf("map %s at %s (struct bpf_map *, %s+%#x)", m.Name, *m.Address, f.Name, rl.Field))
						}
						if rl.What == "map_value" && !known["value "+m.Name] && !done["value "+m.Name] {
							// The field holds value + offset; the offset is
							// the JIT's distance from its value base.
							delta := rl.Target - l.ValueAddrs[m.Name]
							set("value "+m.Name, &m.ValueAddress, val-delta)
							note("value "+m.Name, fmt.Sprintf("map %s values at %s (%s+%#x)", m.Name, *m.ValueAddress, f.Name, rl.Field))
						}
					}
				case "kernel":
					if rl.Name == "this_cpu_off" && !hadCPUOff && !done["this_cpu_off"] {
						done["this_cpu_off"] = true
						s := hexAddr(val)
						if cj.Symbols["this_cpu_off"] != s {
							cj.Symbols["this_cpu_off"] = s
							changed = true
						}
						note("this_cpu_off", fmt.Sprintf("this_cpu_off = %#x (not in kallsyms; %s+%#x)", val, f.Name, rl.Field))
					}
				}
			}
		}
		if !changed {
			break
		}
	}
	for _, k := range order {
		snap.FromImage = append(snap.FromImage, read[k])
	}
	return nil
}

// readField reads the value a relocated field holds in the kernel's bytes.
// On arm64 the kernel's move sequence is read to its end, which may be
// past the JIT's field (see pairFromImage).
func readField(arch kernel.Arch, rl jit.Reloc, b []byte) (uint64, bool) {
	field := b[rl.Field : rl.Field+rl.Size]
	switch {
	case arch == kernel.X86_64 && rl.Kind == "imm64" && rl.Size == 8:
		return binary.LittleEndian.Uint64(field), true
	case arch == kernel.X86_64 && rl.Kind == "disp32" && rl.Size == 4:
		return uint64(int64(int32(binary.LittleEndian.Uint32(field)))), true
	case arch == kernel.ARM64 && rl.Kind == "imm64" && rl.Size%4 == 0:
		return movSequence(b[rl.Field:min(len(b), rl.Field+16)])
	}
	return 0, false
}

// movSequence decodes the arm64 movz/movn + movk sequence
// (emit_a64_mov_i64) that starts b into the 64-bit value it builds: a
// 64-bit movz or movn, then the movk instructions to the same register
// that follow it.
func movSequence(b []byte) (uint64, bool) {
	var v uint64
	rd := uint32(0xff)
	for i := 0; i+4 <= len(b); i += 4 {
		w := binary.LittleEndian.Uint32(b[i:])
		if w>>23&0x3f != 0x25 || w>>31 != 1 { // 64-bit move wide
			if i == 0 {
				return 0, false
			}
			break
		}
		hw := (w >> 21) & 3
		imm := uint64((w >> 5) & 0xffff)
		sh := 16 * hw
		op := (w >> 29) & 3
		if i == 0 {
			rd = w & 0x1f
		} else if op != 3 || w&0x1f != rd {
			break // the next instruction is not part of this move
		}
		switch op {
		case 2: // movz
			v = imm << sh
		case 0: // movn
			v = ^(imm << sh)
		case 3: // movk
			if i == 0 {
				return 0, false
			}
			v = v&^(0xffff<<sh) | imm<<sh
		default:
			return 0, false
		}
	}
	return v, true
}

// Save writes the snapshot as a capture directory dir (which must not
// exist: nothing is overwritten).
func (s *Snapshot) Save(dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s: already exists (not overwritten)", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for n, b := range s.Files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
