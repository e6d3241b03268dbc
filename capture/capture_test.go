package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cilium/ebpf/asm"
	"github.com/jitscope/jitscope/kernel"
)

// capturesDir holds copies of the ground-truth captures (repository
// top-level testdata, shared with other packages' tests).
const capturesDir = "../testdata/captures"

// sample is a capture with two functions, an ld_imm64, a prog array and a
// jited.empty.bin.
var sample = filepath.Join(capturesDir, "x86_64-6.18", "bpf2bpf_tailcall", "entry")

// want is capture.json as the tests read it, independently of the package.
type want struct {
	Format string `json:"format"`
	Kernel struct {
		Name    string `json:"name"`
		Arch    string `json:"arch"`
		Version string `json:"version"`
	} `json:"kernel"`
	Program struct {
		Name        string `json:"name"`
		Scenario    string `json:"scenario"`
		XlatedInsns int    `json:"xlated_insns"`
		JitedLen    int    `json:"jited_len"`
	} `json:"program"`
	Functions []struct {
		Name        string `json:"name"`
		Ksym        string `json:"ksym"`
		InsnStart   int    `json:"insn_start"`
		InsnCount   int    `json:"insn_count"`
		Address     string `json:"address"`
		JitedLen    int    `json:"jited_len"`
		JitedOffset int    `json:"jited_offset"`
	} `json:"functions"`
	Maps []struct {
		Name    string `json:"name"`
		Entries map[string]struct {
			Prog    string `json:"prog"`
			Address string `json:"address"`
		} `json:"entries"`
	} `json:"maps"`
	Symbols map[string]string `json:"symbols"`
	Run     []json.RawMessage `json:"run"`
}

func readWant(t *testing.T, dir string) *want {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileCapture))
	if err != nil {
		t.Fatal(err)
	}
	var w want
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return &w
}

func mustAddr(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := parseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func findCaptures(t *testing.T) []string {
	t.Helper()
	dirs, err := Find(capturesDir)
	if err != nil {
		t.Fatalf("Find(%s): %v", capturesDir, err)
	}
	return dirs
}

func TestFindAll(t *testing.T) {
	dirs := findCaptures(t)
	// The 36 ground-truth captures, plus those jitscope's developers made.
	if len(dirs) < 36 {
		t.Errorf("found %d captures under %s, want at least 36", len(dirs), capturesDir)
	}
	perKernel := map[string]int{}
	for _, d := range dirs {
		rel, _ := filepath.Rel(capturesDir, d)
		perKernel[strings.Split(filepath.ToSlash(rel), "/")[0]]++
	}
	for k, n := range map[string]int{"x86_64-6.18": 12, "x86_64-6.1": 8, "arm64-6.1": 8, "arm64-6.1-bti": 8} {
		if perKernel[k] != n {
			t.Errorf("%s: %d captures, want %d", k, perKernel[k], n)
		}
	}
}

func TestLoadAll(t *testing.T) {
	for _, dir := range findCaptures(t) {
		rel, _ := filepath.Rel(capturesDir, dir)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			c, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkCapture(t, c, dir, rel)
		})
	}
}

func checkCapture(t *testing.T, c *Capture, dir, rel string) {
	w := readWant(t, dir)
	xl, err := os.ReadFile(filepath.Join(dir, FileXlated))
	if err != nil {
		t.Fatal(err)
	}
	jited, err := os.ReadFile(filepath.Join(dir, FileJited))
	if err != nil {
		t.Fatal(err)
	}
	empty, err := os.ReadFile(filepath.Join(dir, FileJitedEmpty))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	arch := kernel.Arch(w.Kernel.Arch)

	// Kernel and profile.
	if c.Kernel.Name != w.Kernel.Name || c.Kernel.Arch != arch {
		t.Errorf("kernel %s/%s, want %s/%s", c.Kernel.Name, c.Kernel.Arch, w.Kernel.Name, w.Kernel.Arch)
	}
	if got, wantP := c.ProfileName(), "v"+w.Kernel.Version; got != wantP || (got != "v6.1" && got != "v6.18") {
		t.Errorf("ProfileName = %q, want %q", got, wantP)
	}
	if c.Set.Name != rel {
		t.Errorf("Set.Name = %q, want %q", c.Set.Name, rel)
	}
	if c.Set.Source != dir || c.Set.Description == "" || strings.Contains(c.Set.Description, "\n") {
		t.Errorf("Set.Source %q, Description %q", c.Set.Source, c.Set.Description)
	}

	// Functions and their bytes.
	if len(c.Funcs) != len(w.Functions) {
		t.Fatalf("%d functions, capture.json has %d", len(c.Funcs), len(w.Functions))
	}
	if len(jited) != w.Program.JitedLen {
		t.Errorf("jited.bin %d bytes, program.jited_len %d", len(jited), w.Program.JitedLen)
	}
	for i, f := range c.Funcs {
		wf := w.Functions[i]
		if f.Name != wf.Name || f.Ksym != wf.Ksym || f.Address != mustAddr(t, wf.Address) {
			t.Errorf("func %d: %s %s %#x, want %s %s %s", i, f.Name, f.Ksym, f.Address, wf.Name, wf.Ksym, wf.Address)
		}
		if len(f.Bytes) != wf.JitedLen || f.Len != wf.JitedLen || f.Offset != wf.JitedOffset {
			t.Errorf("func %s: %d bytes at %d (Len %d), want %d at %d", f.Name, len(f.Bytes), f.Offset, f.Len, wf.JitedLen, wf.JitedOffset)
		}
		if !bytes.Equal(f.Bytes, jited[wf.JitedOffset:wf.JitedOffset+wf.JitedLen]) {
			t.Errorf("func %s: Bytes differ from jited.bin", f.Name)
		}
		if (f.EmptyBytes != nil) != (empty != nil) {
			t.Errorf("func %s: EmptyBytes present %v, jited.empty.bin present %v", f.Name, f.EmptyBytes != nil, empty != nil)
		}
		if empty != nil && !bytes.Equal(f.EmptyBytes, empty[wf.JitedOffset:wf.JitedOffset+wf.JitedLen]) {
			t.Errorf("func %s: EmptyBytes differ from jited.empty.bin", f.Name)
		}
		if f.InsnStart != wf.InsnStart || f.InsnCount != wf.InsnCount {
			t.Errorf("func %s: slots %d+%d, want %d+%d", f.Name, f.InsnStart, f.InsnCount, wf.InsnStart, wf.InsnCount)
		}
	}

	// The program: instructions consistent with xlated.bin's slots.
	p := c.Prog()
	if p == nil || p.Name != w.Program.Name || c.Program != w.Program.Name || len(c.Set.Programs) != 1 {
		t.Fatalf("Set has no program %q", w.Program.Name)
	}
	if !p.Xlated || p.Tag == "" || p.Type == "" {
		t.Errorf("program Xlated %v, Tag %q, Type %q", p.Xlated, p.Tag, p.Type)
	}
	slots := len(xl) / 8
	if slots != w.Program.XlatedInsns {
		t.Errorf("xlated.bin %d slots, program.xlated_insns %d", slots, w.Program.XlatedInsns)
	}
	slotOf := make([]int, len(p.Insns))
	n := 0
	for i, ins := range p.Insns {
		slotOf[i] = n
		n += int(ins.Width())
	}
	if n != slots {
		t.Errorf("Insns (%d) cover %d slots, xlated.bin has %d", len(p.Insns), n, slots)
	}
	ref, err := asm.AppendInstructions(nil, bytes.NewReader(xl), binary.LittleEndian, platformLinux)
	if err != nil {
		t.Fatalf("cilium decode: %v", err)
	}
	if len(ref) != len(p.Insns) {
		t.Fatalf("%d instructions, cilium decodes %d", len(p.Insns), len(ref))
	}
	for i := range ref {
		a, b := p.Insns[i], ref[i]
		if a.OpCode != b.OpCode || a.Dst != b.Dst || a.Src != b.Src || a.Offset != b.Offset || a.Constant != b.Constant {
			t.Errorf("insn %d: %v, cilium decodes %v", i, a, b)
		}
	}

	// Funcs: each Start is the instruction at the function's first slot.
	if len(p.Funcs) != len(w.Functions) {
		t.Fatalf("program has %d Funcs, want %d", len(p.Funcs), len(w.Functions))
	}
	for i, f := range p.Funcs {
		wf := w.Functions[i]
		if f.Name != wf.Name || f.Ksym != wf.Ksym {
			t.Errorf("Funcs[%d] = %s/%s, want %s/%s", i, f.Name, f.Ksym, wf.Name, wf.Ksym)
		}
		if f.Start < 0 || f.Start >= len(p.Insns) || slotOf[f.Start] != wf.InsnStart {
			t.Errorf("Funcs[%d] %s: Start %d is not slot %d", i, f.Name, f.Start, wf.InsnStart)
		}
		if f.StackDepth < 0 {
			t.Errorf("Funcs[%d] %s: StackDepth %d", i, f.Name, f.StackDepth)
		}
		for _, l := range f.Lines {
			if l.Insn < 0 || l.Insn >= len(p.Insns) || slotOf[l.Insn] < wf.InsnStart || slotOf[l.Insn] >= wf.InsnStart+wf.InsnCount {
				t.Errorf("Funcs[%d] %s: line info insn %d outside the function", i, f.Name, l.Insn)
			}
		}
	}

	// Placement.
	pl := c.Set.Placements[arch]
	if pl == nil || len(c.Set.Placements) != 1 {
		t.Fatalf("no placement for %s (have %d)", arch, len(c.Set.Placements))
	}
	if pl.Kernel != w.Kernel.Name {
		t.Errorf("Placement.Kernel %q", pl.Kernel)
	}
	for _, wf := range w.Functions {
		a := mustAddr(t, wf.Address)
		if pl.Funcs[wf.Name] != a || pl.Funcs[wf.Ksym] != a {
			t.Errorf("Placement.Funcs[%s] = %#x, [%s] = %#x, want %s", wf.Name, pl.Funcs[wf.Name], wf.Ksym, pl.Funcs[wf.Ksym], wf.Address)
		}
	}
	for _, wm := range w.Maps {
		km := c.Set.Map(wm.Name)
		if km == nil {
			t.Errorf("map %s missing from Set", wm.Name)
			continue
		}
		if len(km.Progs) != len(wm.Entries) {
			t.Errorf("map %s: %d Progs, %d entries", wm.Name, len(km.Progs), len(wm.Entries))
		}
		for k, e := range wm.Entries {
			if got, ok := pl.Funcs[e.Prog]; !ok || got != mustAddr(t, e.Address) {
				t.Errorf("prog-array target %s[%s]=%s: Placement.Funcs has %#x, want %s", wm.Name, k, e.Prog, got, e.Address)
			}
			found := false
			for _, name := range km.Progs {
				found = found || name == e.Prog
			}
			if !found {
				t.Errorf("map %s: Progs %v lacks %s", wm.Name, km.Progs, e.Prog)
			}
		}
	}
	if len(pl.Symbols) != len(w.Symbols) {
		t.Errorf("%d symbols, want %d", len(pl.Symbols), len(w.Symbols))
	}
	for name, a := range w.Symbols {
		if pl.Symbols[name] != mustAddr(t, a) {
			t.Errorf("symbol %s = %#x, want %s", name, pl.Symbols[name], a)
		}
	}
	for _, k := range []string{"bpf_array.map.max_entries", "bpf_array.ptrs", "bpf_prog.bpf_func"} {
		if pl.Layout[k] <= 0 {
			t.Errorf("Layout[%s] = %d", k, pl.Layout[k])
		}
	}
	if pl.Config["CONFIG_BPF_JIT"] != "y" || pl.Config["sysctl:bpf_jit_harden"] != "0" {
		t.Errorf("Config CONFIG_BPF_JIT %q, sysctl:bpf_jit_harden %q", pl.Config["CONFIG_BPF_JIT"], pl.Config["sysctl:bpf_jit_harden"])
	}
	for _, f := range c.Kernel.CPUFeatures {
		if pl.Config["cpu:"+f] != "y" {
			t.Errorf("Config cpu:%s missing", f)
		}
	}

	// References lie inside their functions; runs decoded.
	for i, r := range c.References {
		f := c.Func(r.Function)
		if f == nil || r.Field+r.Size > len(f.Bytes) {
			t.Errorf("references[%d] outside its function", i)
		}
	}
	if len(c.Runs) != len(w.Run) {
		t.Errorf("%d runs, want %d", len(c.Runs), len(w.Run))
	}
	for i, r := range c.Runs {
		if len(r.Data) != 64 {
			t.Errorf("run %d: %d bytes of data, want 64", i, len(r.Data))
		}
	}
}

// TestSample checks one capture field by field.
func TestSample(t *testing.T) {
	c, err := Load(sample)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Prog()
	if len(p.Insns) != 7 { // 8 slots, one ld_imm64
		t.Errorf("%d instructions, want 7", len(p.Insns))
	}
	if p.Funcs[0].Start != 0 || p.Funcs[1].Start != 2 || p.Funcs[1].Name != "subprog_tail" {
		t.Errorf("Funcs %+v", p.Funcs)
	}
	if ins := p.Insns[2]; !ins.OpCode.IsDWordLoad() || ins.Src != asm.PseudoMapFD || ins.Constant != 115 {
		t.Errorf("insn 2 = %v, want the ld_imm64 of map id 115", ins)
	}
	if ins := p.Insns[4]; ins.OpCode != asm.OpCode(0x85) || ins.Constant != 12 {
		t.Errorf("insn 4 = %v, want the tail call (imm 12)", ins)
	}
	if ins := p.Insns[0]; ins.Src != asm.PseudoCall || ins.Offset != 1 || ins.Constant != 1 {
		t.Errorf("insn 0 = %v, want the bpf-to-bpf call of function 1", ins)
	}
	if l := p.Funcs[1].Lines; len(l) != 2 || l[1].Insn != 6 || l[1].Line != 40 || l[1].Col != 2 {
		t.Errorf("subprog_tail lines %+v, want slot 7 as instruction 6", l)
	}
	if l := c.Funcs[1].Lines; len(l) != 2 || l[1].Slot != 7 || l[1].Offset != 60 {
		t.Errorf("subprog_tail jited lines %+v", l)
	}
	if c.Funcs[1].StackDepth != 0 || p.Funcs[0].Prototype != "int entry(struct __sk_buff * skb)" {
		t.Errorf("stack depth %d, prototype %q", c.Funcs[1].StackDepth, p.Funcs[0].Prototype)
	}
	m := c.Set.Map("jmp_table")
	if m == nil || m.ID != 115 || !m.IsProgArray() || m.MaxEntries != 2 || m.KeySize != 4 || m.Progs[0] != "classifier_0" {
		t.Errorf("jmp_table = %+v", m)
	}
	pl := c.Placement()
	for k, v := range map[string]uint64{
		"entry": 0xffffffffc0025c1c, "subprog_tail": 0xffffffffc0025cb8,
		"bpf_prog_f4c42247cc9ba177_subprog_tail": 0xffffffffc0025cb8,
		"classifier_0":                           0xffffffffc0025bcc,
	} {
		if pl.Funcs[k] != v {
			t.Errorf("Funcs[%s] = %#x, want %#x", k, pl.Funcs[k], v)
		}
	}
	if pl.Maps["jmp_table"] != 0xffff8881025d8e00 || len(pl.Values) != 0 {
		t.Errorf("Maps %v, Values %v", pl.Maps, pl.Values)
	}
	if pl.Symbols["__bpf_call_base"] != 0xffffffff814ca4d0 || pl.Layout["bpf_array.ptrs"] != 312 {
		t.Errorf("__bpf_call_base %#x, bpf_array.ptrs %d", pl.Symbols["__bpf_call_base"], pl.Layout["bpf_array.ptrs"])
	}
	for k, v := range map[string]string{
		"CONFIG_MITIGATION_RETPOLINE": "y", "CONFIG_X86_KERNEL_IBT": "n",
		"CONFIG_FUNCTION_PADDING_BYTES": "16", "cpu:bmi2": "y",
		"sysctl:bpf_jit_harden": "0", "observed:return_thunk": "srso_alias_return_thunk",
	} {
		if pl.Config[k] != v {
			t.Errorf("Config[%s] = %q, want %q", k, pl.Config[k], v)
		}
	}
	if v := pl.Config["CONFIG_ARM64_BTI_KERNEL"]; v != "n" {
		t.Errorf("Config[CONFIG_ARM64_BTI_KERNEL] = %q: null (not set) must read as \"n\"", v)
	}
	if _, ok := c.Kernel.Config["CONFIG_ARM64_BTI_KERNEL"]; ok {
		t.Errorf("Kernel.Config has CONFIG_ARM64_BTI_KERNEL, which is null on x86")
	}
	if c.Kernel.ReturnThunk != "srso_alias_return_thunk" || len(c.Kernel.IndirectThunks) != 1 {
		t.Errorf("observed %q %v", c.Kernel.ReturnThunk, c.Kernel.IndirectThunks)
	}
	if c.EmptyImage != "jited.empty.bin (differs)" || c.JitedEmpty == nil || bytes.Equal(c.JitedEmpty, c.Jited) {
		t.Errorf("empty image %q", c.EmptyImage)
	}
	if len(c.Runs) != 2 || c.Runs[1].Retval != 0 || c.Runs[0].Retval != 1 || c.Runs[1].GlobalsAfter[".bss"]["done"] != 1 {
		t.Errorf("runs %+v", c.Runs)
	}
	if len(c.References) != 5 || c.References[2].Kind != "imm64" || c.References[2].MapID != 115 || c.References[2].Insn != 2 || c.References[0].Insn != -1 {
		t.Errorf("references %+v", c.References)
	}
	if c.ProfileName() != "v6.18" || c.Kernel.Config["CONFIG_RETPOLINE"] != "" {
		t.Errorf("profile %q", c.ProfileName())
	}
}

func TestOtherKernels(t *testing.T) {
	c, err := Load(filepath.Join(capturesDir, "arm64-6.1-bti", "tailcall_count", "classifier_0"))
	if err != nil {
		t.Fatal(err)
	}
	pl := c.Placement()
	if c.Kernel.Arch != kernel.ARM64 || c.ProfileName() != "v6.1" || pl.Config["CONFIG_ARM64_BTI_KERNEL"] != "y" || pl.Config["cpu:atomics"] != "y" {
		t.Errorf("arch %s, profile %s, BTI %q, atomics %q", c.Kernel.Arch, c.ProfileName(), pl.Config["CONFIG_ARM64_BTI_KERNEL"], pl.Config["cpu:atomics"])
	}
	if _, ok := pl.Config["observed:return_thunk"]; ok || c.Kernel.ReturnThunk != "" {
		t.Errorf("arm64 has a return thunk")
	}
	// Global data: only a value address; the self tail call's target is the
	// program itself.
	if _, ok := pl.Maps[".bss"]; ok || pl.Values[".bss"] == 0 || pl.Maps["jmp_table"] == 0 {
		t.Errorf("Maps %v Values %v", pl.Maps, pl.Values)
	}
	if pl.Funcs["classifier_0"] != c.Funcs[0].Address {
		t.Errorf("classifier_0 at %#x, want %#x", pl.Funcs["classifier_0"], c.Funcs[0].Address)
	}
	if r := c.Runs[0]; r.GlobalsAfter[".bss"]["count"] != 34 || !bytes.Equal(r.GlobalsAfterHex[".bss"], []byte{0x22, 0, 0, 0}) {
		t.Errorf("run %+v", r)
	}

	c, err = Load(filepath.Join(capturesDir, "x86_64-6.18", "tailcall_simple", "entry_idx"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Runs[1]; len(r.Ctx) != 36 || r.Ctx[8] != 1 || r.CtxDesc != "__sk_buff.mark = 1" || r.Retval != 1 {
		t.Errorf("run %+v", r)
	}
	c, err = Load(filepath.Join(capturesDir, "x86_64-6.1", "tailcall_simple", "entry"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ProfileName() != "v6.1" || c.Kernel.ReturnThunk != "" || c.Placement().Config["cpu:la57"] != "y" {
		t.Errorf("x86_64-6.1: profile %s, return thunk %q", c.ProfileName(), c.Kernel.ReturnThunk)
	}
}

func TestLoadFS(t *testing.T) {
	rel := "x86_64-6.18/bpf2bpf_tailcall/entry"
	c, err := LoadFS(os.DirFS(capturesDir), rel)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(sample)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != rel || len(c.Funcs) != len(d.Funcs) || !bytes.Equal(c.Jited, d.Jited) || !bytes.Equal(c.JitedEmpty, d.JitedEmpty) ||
		len(c.Prog().Insns) != len(d.Prog().Insns) || c.Set.Name != d.Set.Name {
		t.Errorf("LoadFS and Load differ")
	}
	if _, err := LoadFS(os.DirFS(capturesDir), "x86_64-6.18/nope"); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFS of a missing directory: %v", err)
	}
}

func TestProfileNameFromRelease(t *testing.T) {
	for rel, want := range map[string]string{
		"6.1.0-50-arm64": "v6.1", "6.18.44-fc-v445": "v6.18", "6.12rc1": "v6.12", "": "", "x.y": "", "6": "",
	} {
		c := &Capture{Kernel: KernelInfo{Release: rel}}
		if got := c.ProfileName(); got != want {
			t.Errorf("release %q: %q, want %q", rel, got, want)
		}
	}
}

func TestIsCapture(t *testing.T) {
	if !IsCapture(sample) {
		t.Errorf("IsCapture(%s) = false", sample)
	}
	if IsCapture(capturesDir) || IsCapture(t.TempDir()) || IsCapture(filepath.Join(t.TempDir(), "nope")) {
		t.Errorf("IsCapture true for a directory without capture.json")
	}
	dir := copyCapture(t, sample)
	editJSON(t, dir, func(j map[string]any) { j["format"] = "jitscope-capture/2" })
	if IsCapture(dir) {
		t.Errorf("IsCapture true for format jitscope-capture/2")
	}
}

// copyCapture copies the files of a capture directory into a temporary one.
func copyCapture(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func editJSON(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, FileCapture)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	edit(j)
	if b, err = json.Marshal(j); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, dir, name string, edit func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fn(j map[string]any, i int) map[string]any {
	return j["functions"].([]any)[i].(map[string]any)
}

func TestCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string // the file the error must name
		contains string
		corrupt  func(t *testing.T, dir string)
	}{
		{"truncated xlated.bin", FileXlated, "7 bytes", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { return b[:7] })
		}},
		{"empty xlated.bin", FileXlated, "empty", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { return nil })
		}},
		{"xlated.bin cut inside an ld_imm64", FileXlated, "second half", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { return b[:3*8] })
		}},
		{"xlated.bin shorter than capture.json says", FileCapture, "xlated_insns 8", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { return b[:2*8] })
		}},
		{"bad function address", FileCapture, `functions[1]: bad address "0xffffffffzz025cb8"`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["address"] = "0xffffffffzz025cb8" })
		}},
		{"address without 0x", FileCapture, "bad address", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 0)["address"] = "ffffffffc0025c1c" })
		}},
		{"address over 64 bits", FileCapture, "more than 64 bits", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 0)["address"] = "0x1ffffffffc0025c1c" })
		}},
		{"bad symbol address", FileCapture, `symbols["__bpf_call_base"]`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["symbols"].(map[string]any)["__bpf_call_base"] = "0x-1" })
		}},
		{"bad map address", FileCapture, "maps[0] (jmp_table): address", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["maps"].([]any)[0].(map[string]any)["address"] = "0x" })
		}},
		{"bad prog-array key", FileCapture, `entries["x"]`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				m := j["maps"].([]any)[0].(map[string]any)
				m["entries"] = map[string]any{"x": m["entries"].(map[string]any)["0"]}
			})
		}},
		{"prog-array key beyond max_entries", FileCapture, "beyond max_entries", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				m := j["maps"].([]any)[0].(map[string]any)
				m["entries"] = map[string]any{"5": m["entries"].(map[string]any)["0"]}
			})
		}},
		{"prog-array target clashing with a function", FileCapture, "but subprog_tail is at", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				m := j["maps"].([]any)[0].(map[string]any)
				m["entries"].(map[string]any)["0"].(map[string]any)["prog"] = "subprog_tail"
			})
		}},
		{"missing jited.bin", FileJited, "missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, FileJited)); err != nil {
				t.Fatal(err)
			}
		}},
		{"missing xlated.bin", FileXlated, "missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, FileXlated)); err != nil {
				t.Fatal(err)
			}
		}},
		{"missing capture.json", FileCapture, "missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, FileCapture)); err != nil {
				t.Fatal(err)
			}
		}},
		{"missing jited.empty.bin", FileJitedEmpty, "empty_image", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, FileJitedEmpty)); err != nil {
				t.Fatal(err)
			}
		}},
		{"odd jited.empty.bin", FileJitedEmpty, "same length", func(t *testing.T, dir string) {
			editFile(t, dir, FileJitedEmpty, func(b []byte) []byte { return b[:len(b)-1] })
		}},
		{"short jited.bin", FileCapture, "jited_len 110", func(t *testing.T, dir string) {
			editFile(t, dir, FileJited, func(b []byte) []byte { return b[:50] })
		}},
		{"wrong format", FileCapture, `format "jitscope-capture/0"`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["format"] = "jitscope-capture/0" })
		}},
		{"no format", FileCapture, `no "format"`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { delete(j, "format") })
		}},
		{"not JSON", FileCapture, "line 1 col 2", func(t *testing.T, dir string) {
			editFile(t, dir, FileCapture, func([]byte) []byte { return []byte("not json") })
		}},
		{"truncated JSON", FileCapture, "unexpected end", func(t *testing.T, dir string) {
			editFile(t, dir, FileCapture, func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{"wrong JSON type", FileCapture, "functions.insn_start", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["insn_start"] = "two" })
		}},
		{"unknown arch", FileCapture, "kernel: arch", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["kernel"].(map[string]any)["arch"] = "riscv64" })
		}},
		{"bad config value", FileCapture, `kernel.config["CONFIG_BPF_JIT"]`, func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				j["kernel"].(map[string]any)["config"].(map[string]any)["CONFIG_BPF_JIT"] = []any{1}
			})
		}},
		{"no functions", FileCapture, "no functions", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["functions"] = []any{} })
		}},
		{"insn_start beyond xlated.bin", FileCapture, "functions[1]: insn_start 9 beyond xlated.bin (8 slots)", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["insn_start"] = 9 })
		}},
		{"huge insn_count", FileCapture, "beyond xlated.bin", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["insn_count"] = 1 << 62 })
		}},
		{"functions with a gap", FileCapture, "tile xlated.bin", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["insn_start"] = 3; fn(j, 1)["insn_count"] = 5 })
		}},
		{"function starting inside an ld_imm64", FileCapture, "second slot of an ld_imm64", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				fn(j, 0)["insn_count"] = 3
				fn(j, 1)["insn_start"] = 3
				fn(j, 1)["insn_count"] = 5
			})
		}},
		{"jited_len beyond jited.bin", FileCapture, "beyond jited.bin (110 bytes)", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { fn(j, 1)["jited_len"] = 67 })
		}},
		{"line info outside the function", FileCapture, "line_info[0]: insn 0 outside", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) {
				fn(j, 1)["line_info"].([]any)[0].(map[string]any)["insn"] = 0
			})
		}},
		{"bad data_hex", FileCapture, "run[0]: data_hex", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["run"].([]any)[0].(map[string]any)["data_hex"] = "0g" })
		}},
		{"odd-length data_hex", FileCapture, "run[1]: data_hex", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["run"].([]any)[1].(map[string]any)["data_hex"] = "000" })
		}},
		{"reference outside its function", FileCapture, "references[1]", func(t *testing.T, dir string) {
			editJSON(t, dir, func(j map[string]any) { j["references"].([]any)[1].(map[string]any)["field"] = 44 })
		}},
		{"bpf-to-bpf call of a missing function", FileXlated, "slot 0: bpf-to-bpf call of function 7", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { b[4] = 7; return b })
		}},
		{"bpf-to-bpf call to the wrong slot", FileXlated, "slot 0: bpf-to-bpf call to slot 3", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { b[2] = 2; return b })
		}},
		{"unknown map id", FileXlated, "map id 116", func(t *testing.T, dir string) {
			editFile(t, dir, FileXlated, func(b []byte) []byte { b[2*8+4] = 116; return b })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyCapture(t, sample)
			tc.corrupt(t, dir)
			c, err := Load(dir)
			if err == nil {
				t.Fatalf("loaded %s", c.Set.Name)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, dir+": "+tc.file+": ") || !strings.Contains(msg, tc.contains) {
				t.Errorf("error %q: want %q naming %s and containing %q", msg, dir, tc.file, tc.contains)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != tc.file || e.Dir != dir {
				t.Errorf("error %#v is not an *Error for %s", err, tc.file)
			}
			if tc.contains == "missing" && tc.file != FileJitedEmpty && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing file: error does not match fs.ErrNotExist")
			}
		})
	}
}

// TestHelperCallImm checks helper calls whose __bpf_call_base-relative imm
// cilium's decoder would take for an out-of-range helper id.
func TestHelperCallImm(t *testing.T) {
	var b []byte
	for _, imm := range []int32{1 << 29, -1 << 20, 12} {
		b = binary.LittleEndian.AppendUint32(append(b, 0x85, 0, 0, 0), uint32(imm))
	}
	b = append(b, 0x95, 0, 0, 0, 0, 0, 0, 0)
	insns, idx, err := decodeXlated(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(insns) != 4 || insns[0].Constant != 1<<29 || insns[1].Constant != -1<<20 || insns[2].Constant != 12 || !insns[0].IsBuiltinCall() {
		t.Errorf("decoded %v", insns)
	}
	if len(idx) != 4 || idx[3] != 3 {
		t.Errorf("slot index %v", idx)
	}
}

func FuzzLoadCaptureJSON(f *testing.F) {
	for _, d := range []string{
		sample,
		filepath.Join(capturesDir, "arm64-6.1", "tailcall_count", "classifier_0"),
	} {
		b, err := os.ReadFile(filepath.Join(d, FileCapture))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"jitscope-capture/1"}`))
	f.Add([]byte(`{"format":"jitscope-capture/1","kernel":{"name":"k","arch":"arm64"},"program":{"name":"p"},"functions":[{"name":"p","insn_start":0,"insn_count":8,"address":"0x1","jited_offset":0,"jited_len":110}]}`))
	fsys := fstest.MapFS{}
	for _, name := range []string{FileXlated, FileJited, FileJitedEmpty} {
		b, err := os.ReadFile(filepath.Join(sample, name))
		if err != nil {
			f.Fatal(err)
		}
		fsys["c/"+name] = &fstest.MapFile{Data: b}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := fstest.MapFS{"c/" + FileCapture: &fstest.MapFile{Data: data}}
		for k, v := range fsys {
			m[k] = v
		}
		c, err := LoadFS(m, "c")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		for _, fb := range c.Funcs {
			if len(fb.Bytes) != fb.Len || fb.Offset+fb.Len > len(c.Jited) {
				t.Fatalf("function %s: %d bytes", fb.Name, len(fb.Bytes))
			}
		}
		p := c.Prog()
		for _, fn := range p.Funcs {
			if fn.Start < 0 || fn.Start >= len(p.Insns) {
				t.Fatalf("function %s starts at %d of %d", fn.Name, fn.Start, len(p.Insns))
			}
		}
	})
}

func FuzzDecodeXlated(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(sample, FileXlated))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x18, 0x12, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		insns, idx, err := decodeXlated(b)
		if err != nil {
			return
		}
		n := 0
		for i, ins := range insns {
			if idx[n] != i {
				t.Fatalf("slot %d: index %d, want %d", n, idx[n], i)
			}
			n += int(ins.Width())
		}
		if n*8 != len(b) || len(idx) != n {
			t.Fatalf("instructions cover %d slots of %d bytes", n, len(b))
		}
	})
}
