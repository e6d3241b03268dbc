// SPDX-License-Identifier: GPL-2.0-only

package tramp

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/arch/x86/x86asm"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Real trampolines read back from this machine's x86-64 6.18 kernel.
// It refuses tracing programs (fentry/fexit: bpftool feature probe says
// "program_type tracing is NOT available") but builds struct_ops
// trampolines with the same __arch_prepare_bpf_trampoline: one fentry
// link (the struct_ops program), BPF_TRAMP_F_INDIRECT, and
// RET_FENTRY_RET when the member returns a value
// (bpf_struct_ops_prepare_trampoline). testdata/live/capture.sh
// registers testdata/live/jscope.bpf.c (a tcp_congestion_ops) with
// bpftool and runs TestCaptureLive -capture, which reads the images with
// bpf_probe_read_kernel (no /proc/kcore here).
var captureLive = flag.Bool("capture", false, "read the struct_ops trampolines of the registered tcp_congestion_ops \"jscope\" from the running kernel into testdata/live (root, x86-64; see testdata/live/capture.sh)")

// liveCapture is one trampoline read back from a running kernel.
type liveCapture struct {
	Kernel    string            `json:"kernel"`
	Tool      string            `json:"tool"`
	Member    string            `json:"member"`
	Prototype string            `json:"prototype"` // the member's type, from the kernel's BTF
	Flags     string            `json:"flags"`
	Symbols   map[string]string `json:"symbols"` // name -> address; "prog" and "im" are read from the code
	Image     string            `json:"image"`   // the trampoline's address (kallsyms)
	Bytes     string            `json:"bytes"`   // the code: up to the next symbol (or the int3 fill) less BPF_INSN_SAFETY
	Safety    string            `json:"safety"`  // the 64 bytes after it, reserved by BPF_INSN_SAFETY (not code)
}

func hexAddr(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return v
}

// TestLiveCaptures builds each captured trampoline with the x86-64 JIT
// and compares it with the kernel's bytes.
func TestLiveCaptures(t *testing.T) {
	files, _ := filepath.Glob("testdata/live/*.json")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/live")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c liveCapture
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		f, err := abi.ParsePrototype(c.Prototype)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		flags, err := jit.ParseTrampFlags(c.Flags)
		if err != nil {
			t.Fatal(err)
		}
		sym := func(n string) uint64 { return hexAddr(c.Symbols[n]) }
		ad := jit.TrampAddrs{
			Image: hexAddr(c.Image), Func: sym("func"),
			Enter: sym("enter"), Exit: sym("exit"),
			Progs: []uint64{sym("prog")}, ProgFuncs: []uint64{sym("prog.bpf_func")},
			ReturnThunk: sym("return_thunk"),
		}
		cfg := map[string]string{"observed:return_thunk": "none"}
		if ad.ReturnThunk != 0 {
			cfg["observed:return_thunk"] = c.Symbols["return_thunk.name"]
		}
		r, err := Build(Options{Func: f, Arch: kernel.X86_64, Version: "v6.18", Fentry: 1, Flags: flags, Addrs: &ad, Config: cfg})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if r.Selected.Tramp == nil {
			t.Fatalf("%s: %v", file, r.Selected.Err)
		}
		got := hex.EncodeToString(r.Selected.Tramp.Image.Code)
		if got != c.Bytes {
			want, _ := hex.DecodeString(c.Bytes)
			code := r.Selected.Tramp.Image.Code
			i := 0
			for i < len(code) && i < len(want) && code[i] == want[i] {
				i++
			}
			t.Errorf("%s (%s, %s): differs at +%#x (jitscope %d bytes, kernel %d):\n jitscope % x\n kernel   % x",
				file, c.Member, c.Flags, i, len(code), len(want), code[i:min(i+16, len(code))], want[i:min(i+16, len(want))])
		}
	}
}

func kallsyms() (map[string]uint64, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 3 {
			continue
		}
		a, err := strconv.ParseUint(w[0], 16, 64)
		if err != nil || a == 0 {
			continue
		}
		if _, ok := m[w[2]]; !ok {
			m[w[2]] = a
		}
	}
	return m, sc.Err()
}

// readKernel copies n bytes of kernel memory with bpf_probe_read_kernel
// from a socket filter run by BPF_PROG_TEST_RUN.
func readKernel(addr uint64, n int) ([]byte, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: uint32(n), MaxEntries: 1})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Imm(asm.R2, int32(n)),
		asm.LoadImm(asm.R3, int64(addr), asm.DWord),
		asm.FnProbeReadKernel.Call(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "GPL"})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := m.Lookup(uint32(0), &buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func TestCaptureLive(t *testing.T) {
	if !*captureLive {
		t.Skip("capturing live trampolines needs -capture (see testdata/live/capture.sh)")
	}
	if runtime.GOARCH != "amd64" || os.Geteuid() != 0 {
		t.Skip("needs root on x86-64")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatal(err)
	}
	syms, err := kallsyms()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[uint64]string{}
	var addrs []uint64
	for n, a := range syms {
		byAddr[a] = n
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var ops *btf.Struct
	if err := spec.TypeByName("tcp_congestion_ops", &ops); err != nil {
		t.Fatal(err)
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	for _, member := range []string{"ssthresh", "cong_avoid", "undo_cwnd"} {
		tramp, ok := syms["bpf__tcp_congestion_ops_"+member]
		if !ok {
			t.Fatalf("no bpf__tcp_congestion_ops_%s in /proc/kallsyms: register testdata/live/jscope.bpf.c first", member)
		}
		// The image runs to the next symbol (the next member's
		// trampoline) or to the pack's int3 fill.
		i := sort.Search(len(addrs), func(i int) bool { return addrs[i] > tramp })
		n := 512
		if i < len(addrs) && addrs[i]-tramp < uint64(n) {
			n = int(addrs[i] - tramp)
		}
		code, err := readKernel(tramp, n)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k+8 <= len(code); k++ {
			if strings.Count(string(code[k:k+8]), "\xcc") == 8 {
				code = code[:k]
				break
			}
		}
		// __arch_prepare_bpf_trampoline returns the code's size plus
		// BPF_INSN_SAFETY (64), and bpf_struct_ops_prepare_trampoline
		// packs the images by that size: the last 64 bytes are not code
		// (stale memory here).
		if len(code) < 64 {
			t.Fatalf("%s: %d bytes to the next symbol", member, len(code))
		}
		safety := code[len(code)-64:]
		code = code[:len(code)-64]
		var proto *btf.FuncProto
		for _, m := range ops.Members {
			if m.Name == member {
				proto = m.Type.(*btf.Pointer).Target.(*btf.FuncProto)
			}
		}
		f, err := abi.FromFuncProto(member, proto)
		if err != nil {
			t.Fatal(err)
		}
		c := &liveCapture{
			Kernel: strings.TrimSpace(string(rel)), Member: member, Image: fmt.Sprintf("%#x", tramp), Bytes: hex.EncodeToString(code),
			Safety:    hex.EncodeToString(safety),
			Tool:      "testdata/live/capture.sh: bpftool struct_ops register jscope.bpf.o; go test ./tramp -run TestCaptureLive -capture (kallsyms, bpf_probe_read_kernel)",
			Prototype: protoText(f), Symbols: map[string]string{}, Flags: "INDIRECT",
		}
		if f.Ret.Kind != abi.Void {
			c.Flags = "RET_FENTRY_RET,INDIRECT"
		}
		// The addresses the code depends on: struct bpf_prog (movabs
		// rdi before the enter call), enter, the program, exit, and how
		// the trampoline returns.
		var lastImm uint64
		var calls []uint64
		for pc := 0; pc < len(code); {
			in, err := x86asm.Decode(code[pc:], 64)
			if err != nil {
				t.Fatalf("%s: decode at +%#x: %v", member, pc, err)
			}
			if in.Op == x86asm.MOV && in.Args[0] == x86asm.RDI && in.Len == 10 {
				lastImm = uint64(in.Args[1].(x86asm.Imm))
			}
			if rel, ok := in.Args[0].(x86asm.Rel); ok && (in.Op == x86asm.CALL || in.Op == x86asm.JMP) {
				target := tramp + uint64(pc+in.Len) + uint64(int64(rel))
				if in.Op == x86asm.CALL {
					calls = append(calls, target)
					if len(calls) == 1 {
						c.Symbols["prog"] = fmt.Sprintf("%#x", lastImm)
					}
				} else if pc+in.Len == len(code) {
					c.Symbols["return_thunk"] = fmt.Sprintf("%#x", target)
					c.Symbols["return_thunk.name"] = byAddr[target]
				}
			}
			pc += in.Len
		}
		if len(calls) != 3 {
			t.Fatalf("%s: %d calls, want enter, program, exit", member, len(calls))
		}
		c.Symbols["enter"] = fmt.Sprintf("%#x", calls[0])
		c.Symbols["enter.name"] = byAddr[calls[0]]
		c.Symbols["prog.bpf_func"] = fmt.Sprintf("%#x", calls[1])
		c.Symbols["prog.name"] = byAddr[calls[1]]
		c.Symbols["exit"] = fmt.Sprintf("%#x", calls[2])
		c.Symbols["exit.name"] = byAddr[calls[2]]
		b, _ := json.MarshalIndent(c, "", " ")
		if err := os.WriteFile(filepath.Join("testdata/live", "structops_"+member+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// protoText writes f as a prototype ParsePrototype reads: pointers as
// void *, integers by size (the trampoline sees sizes only).
func protoText(f *abi.Func) string {
	var args []string
	for i, a := range f.Args {
		switch a.Type.Kind {
		case abi.Pointer:
			args = append(args, fmt.Sprintf("void *a%d", i))
		default:
			args = append(args, fmt.Sprintf("%s a%d", map[int]string{1: "u8", 2: "u16", 4: "u32", 8: "u64", 16: "__int128"}[a.Type.Size], i))
		}
	}
	ret := "void"
	if f.Ret.Kind != abi.Void {
		ret = map[int]string{1: "u8", 2: "u16", 4: "u32", 8: "u64"}[f.Ret.Size]
	}
	return fmt.Sprintf("%s %s(%s)", ret, f.Name, strings.Join(args, ", "))
}
