// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/live"
	"github.com/jitscope/jitscope/session"
)

// kernelRunsFile holds what this project's 6.18 machine returned for
// every program of live/testdata under BPF_PROG_TEST_RUN.
const kernelRunsFile = "testdata/kernel_runs.txt"

// nondeterministic programs return what the kernel's clocks say.
var nondeterministic = map[string]bool{"gt_calls.bpf.o helpers": true}

// kernelGlobalsFile holds the .bss of the programs of globalChecks after
// their run in the kernel.
const kernelGlobalsFile = "testdata/kernel_globals.txt"

// globalChecks are the programs whose globals hold what they read from
// the kernel's structs: size is the .bss bytes kept, ignore byte ranges
// holding kernel addresses (which differ from the emulator's).
var globalChecks = map[string]struct {
	size   int
	ignore [][2]int
}{
	// seen[] = ifindex, pkt_type, queue_mapping, hash + vlan_present
	"ctx.bpf.o skb_fields": {32, nil},
	// xdp_seen[] = rx_queue_index, data_meta (an address)
	"xdp.bpf.o xdp_fields": {16, [][2]int{{8, 16}}},
}

// maskGlobals blanks the ignored byte ranges of hex (a kernel address
// differs from the emulator's).
func maskGlobals(hex string, ignore [][2]int) string {
	for _, ig := range ignore {
		if 2*ig[1] <= len(hex) {
			hex = hex[:2*ig[0]] + strings.Repeat("-", 2*(ig[1]-ig[0])) + hex[2*ig[1]:]
		}
	}
	return hex
}

func readKernelGlobals(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(kernelGlobalsFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(line, "#") {
			out[f[0]+" "+f[1]] = f[2]
		}
	}
	if len(out) != len(globalChecks) {
		t.Fatalf("%s: %d entries, want %d", kernelGlobalsFile, len(out), len(globalChecks))
	}
	return out
}

// What skb_fields and xdp_fields read from the kernel memory model and
// store in their globals (ifindex, pkt_type, queue_mapping, hash,
// vlan_present; rx_queue_index) is what they read in the kernel.
func TestRunVerifierGlobals(t *testing.T) {
	want := readKernelGlobals(t)
	for key, gc := range globalChecks {
		obj, prog, _ := strings.Cut(key, " ")
		tg, err := session.LoadTarget(filepath.Join("../live/testdata", obj))
		if err != nil {
			t.Fatal(err)
		}
		p, err := tg.PickProfile(kernel.X86_64, "v6.18")
		if err != nil {
			t.Fatal(err)
		}
		f, err := tg.ProfileFacts(kernel.X86_64, p)
		if err != nil {
			t.Fatal(err)
		}
		vt, err := tg.Verified(kernel.X86_64, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := vt.CompileAll(kernel.X86_64, p)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*jit.Image{}
		for _, img := range imgs {
			byName[img.Program] = img
		}
		su, err := vt.NewMachine(kernel.X86_64, p, byName, machine.Options{Verified: &f})
		if err != nil {
			t.Fatal(err)
		}
		k := su.Kernel
		r, err := machine.NewRunner(k, p)
		if err != nil {
			t.Fatal(err)
		}
		cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
		if err != nil {
			t.Fatal(err)
		}
		if run := r.Run(cpu, prog, machine.RunOptions{Thunks: thunks(imgs)}); run.Err != nil {
			t.Fatalf("%s: %v", key, run.Err)
		}
		b, err := k.Mem.ReadBytes(k.Maps[".bss"].ValueAddr, gc.size)
		if err != nil {
			t.Fatal(err)
		}
		got, w := maskGlobals(fmt.Sprintf("%x", b), gc.ignore), maskGlobals(want[key], gc.ignore)
		if got != w {
			t.Errorf("%s: .bss %s on the emulator, %s in the kernel", key, got, w)
		}
	}
}

type kernelRun struct {
	obj, prog string
	retval    uint32
}

func readKernelRuns(t *testing.T) []kernelRun {
	t.Helper()
	b, err := os.ReadFile(kernelRunsFile)
	if err != nil {
		t.Fatal(err)
	}
	var runs []kernelRun
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("%s:%d: want OBJECT PROGRAM RETVAL", kernelRunsFile, i+1)
		}
		v, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			t.Fatalf("%s:%d: %v", kernelRunsFile, i+1, err)
		}
		runs = append(runs, kernelRun{f[0], f[1], uint32(v)})
	}
	if len(runs) < 25 {
		t.Fatalf("%s: %d runs", kernelRunsFile, len(runs))
	}
	return runs
}

// Offline, with the v6.18 profile's verifier facts, every program of
// live/testdata runs the image of its rewritten form on the kernel
// memory model and returns what the kernel returned: skb_fields and
// xdp_fields read struct sk_buff / xdp_buff, alu_muldiv divides behind
// the verifier's guards, jmp_cond and jmp_long loop on may_goto's timed
// counter, maps' helpers inlines array and hash lookups and reads
// cpu_number through gs.
func TestRunVerifierProfile(t *testing.T) {
	for _, kr := range readKernelRuns(t) {
		if nondeterministic[kr.obj+" "+kr.prog] {
			continue
		}
		t.Run(kr.obj+"/"+kr.prog, func(t *testing.T) {
			out, errOut, status := runCLI(t, "run", filepath.Join("../live/testdata", kr.obj), "--arch", "x86_64", "--profile", "v6.18",
				"--verifier", "profile", "--entry", kr.prog, "--max-steps", "5000000", "--format", "json")
			if status != 0 {
				t.Fatalf("status %d: %s", status, errOut)
			}
			var res runResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Error != "" || uint32(res.Retval) != kr.retval {
				t.Errorf("retval %d (error %q), the kernel returned %d", uint32(res.Retval), res.Error, kr.retval)
			}
		})
	}
}

// As written (no --verifier) the emulator cannot run what only the
// rewrites make runnable: the division by zero of alu_muldiv traps.
// With the rewrites it runs: the guard is what makes the difference.
func TestRunVerifierGuardsDivision(t *testing.T) {
	_, errOut, status := runCLI(t, "run", "../live/testdata/gt_alu.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--entry", "alu_muldiv")
	if status != 1 || !strings.Contains(errOut, "divide error") {
		t.Fatalf("as written: status %d, %s", status, errOut)
	}
	out, errOut, status := runCLI(t, "run", "../live/testdata/gt_alu.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--entry", "alu_muldiv", "--verifier", "profile")
	if status != 0 || !strings.Contains(out, "retval 0,") {
		t.Fatalf("rewritten: status %d: %s\n%s", status, errOut, out)
	}
}

// jmp_long's loop ends only when may_goto's time slice is spent: two
// calls of arch_bpf_timed_may_goto, the first stamping the slice
// (65535), the second finding a quarter second gone (0).
func TestRunVerifierTimedMayGoto(t *testing.T) {
	out, errOut, status := runCLI(t, "run", "../live/testdata/gt_jmp.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--entry", "jmp_long",
		"--verifier", "profile", "--max-steps", "5000000", "--format", "json")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errOut)
	}
	var res runResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Events {
		if e.Kind == "helper" && e.To == "arch_bpf_timed_may_goto" {
			got = append(got, fmt.Sprint(*e.Value))
		}
	}
	if strings.Join(got, ",") != "65535,0" {
		t.Errorf("arch_bpf_timed_may_goto returned %v, want 65535 then 0", got)
	}
}

func TestRunVerifierBadFlag(t *testing.T) {
	_, errOut, status := runCLI(t, "run", "../live/testdata/ctx.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--verifier", "nope")
	if status != 1 || !strings.Contains(errOut, "--verifier must be profile or host") {
		t.Errorf("status %d: %s", status, errOut)
	}
	_, errOut, status = runCLI(t, "run", "../live/testdata/ctx.bpf.o", "--arch", "arm64", "--verifier", "profile")
	if status != 1 || !strings.Contains(errOut, "no verifier facts") {
		t.Errorf("arm64: status %d: %s", status, errOut)
	}
}

// The kernel still returns what kernelRunsFile says (root, BPF); with
// -update the file is written from this kernel.
func TestKernelRunsCaptured(t *testing.T) {
	requireKernel(t)
	objs, err := filepath.Glob("../live/testdata/*.bpf.o")
	if err != nil || len(objs) == 0 {
		t.Fatalf("objects: %v %v", objs, err)
	}
	sort.Strings(objs)
	var got []kernelRun
	var gotGlobals []string
	for _, obj := range objs {
		tg, err := session.LoadTarget(obj)
		if err != nil {
			t.Fatal(err)
		}
		order, skipped := loadable(tg.Set)
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		for name := range skipped {
			delete(spec.Programs, name)
		}
		slots := map[string]map[uint32]string{}
		for _, m := range tg.Set.Maps {
			for k, p := range m.Progs {
				if slots[m.Name] == nil {
					slots[m.Name] = map[uint32]string{}
				}
				slots[m.Name][k] = p
			}
		}
		l, err := live.Load(spec, order, slots)
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		for _, name := range l.Order {
			err := l.ResetData(spec)
			var ret uint32
			if err == nil {
				ret, err = l.Run(name, verifyPacket)
			}
			if err != nil {
				l.Close()
				t.Fatalf("%s %s: %v", obj, name, err)
			}
			got = append(got, kernelRun{filepath.Base(obj), name, ret})
			if gc, ok := globalChecks[filepath.Base(obj)+" "+name]; ok {
				m := l.Coll.Maps[".bss"]
				if m == nil {
					l.Close()
					t.Fatalf("%s: no .bss", obj)
				}
				b := make([]byte, gc.size)
				if err := m.Lookup(uint32(0), &b); err != nil {
					l.Close()
					t.Fatalf("%s: .bss: %v", obj, err)
				}
				gotGlobals = append(gotGlobals, fmt.Sprintf("%s %s %x", filepath.Base(obj), name, b))
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if *update {
		r, err := live.NewReader(live.HostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# BPF_PROG_TEST_RUN return values on Linux %s %s: every program of\n", r.Host.Release, r.Host.Arch)
		b.WriteString("# live/testdata, one run each on the 64-byte frame kernel verify sends\n")
		b.WriteString("# (verifyPacket). Written by TestKernelRunsCaptured -update (as root);\n")
		b.WriteString("# read by TestRunVerifierProfile. OBJECT PROGRAM RETVAL\n")
		for _, kr := range got {
			fmt.Fprintf(&b, "%s %s %d\n", kr.obj, kr.prog, kr.retval)
		}
		if err := os.WriteFile(kernelRunsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		fmt.Fprintf(&b, "# .bss after one BPF_PROG_TEST_RUN on Linux %s %s (the values the\n", r.Host.Release, r.Host.Arch)
		b.WriteString("# programs read from the kernel's structs and keep out of their result).\n")
		b.WriteString("# Written by TestKernelRunsCaptured -update (as root); read by\n# TestRunVerifierGlobals. OBJECT PROGRAM HEX\n")
		for _, g := range gotGlobals {
			b.WriteString(g + "\n")
		}
		if err := os.WriteFile(kernelGlobalsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantGlobals := readKernelGlobals(t)
	for _, g := range gotGlobals {
		f := strings.Fields(g)
		key := f[0] + " " + f[1]
		if w, got := maskGlobals(wantGlobals[key], globalChecks[key].ignore), maskGlobals(f[2], globalChecks[key].ignore); w != got {
			t.Errorf("%s %s: the kernel's .bss is %s, %s says %s", f[0], f[1], f[2], kernelGlobalsFile, w)
		}
	}
	want := map[string]uint32{}
	for _, kr := range readKernelRuns(t) {
		want[kr.obj+" "+kr.prog] = kr.retval
	}
	for _, kr := range got {
		key := kr.obj + " " + kr.prog
		w, ok := want[key]
		switch {
		case !ok:
			t.Errorf("%s: not in %s (run with -update)", key, kernelRunsFile)
		case nondeterministic[key]:
		case w != kr.retval:
			t.Errorf("%s: the kernel returned %d, %s says %d", key, kr.retval, kernelRunsFile, w)
		}
	}
}

// With this kernel's facts (its BTF offsets, kallsyms addresses) the
// rewritten images return what the kernel returned too (root).
func TestRunVerifierHost(t *testing.T) {
	requireKernel(t)
	for _, kr := range readKernelRuns(t) {
		if nondeterministic[kr.obj+" "+kr.prog] || (kr.obj != "ctx.bpf.o" && kr.obj != "xdp.bpf.o" && kr.obj != "maps.bpf.o" && kr.obj != "gt_jmp.bpf.o") {
			continue
		}
		out, errOut, status := runCLI(t, "run", filepath.Join("../live/testdata", kr.obj), "--arch", "x86_64", "--verifier", "host",
			"--entry", kr.prog, "--max-steps", "5000000")
		if status != 0 || !strings.Contains(out, fmt.Sprintf("retval %d,", kr.retval)) {
			t.Errorf("%s %s: status %d, want retval %d: %s\n%s", kr.obj, kr.prog, status, kr.retval, errOut, out)
		}
	}
}

// BenchmarkRunVerifiedMayGoto runs jmp_long's may_goto loop on the kernel
// memory model: 1,180,110 emulated x86-64 instructions a run, two calls
// of arch_bpf_timed_may_goto.
func BenchmarkRunVerifiedMayGoto(b *testing.B) {
	args := []string{"run", "../live/testdata/gt_jmp.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--verifier", "profile",
		"--entry", "jmp_long", "--max-steps", "5000000", "--format", "json"}
	b.ReportAllocs()
	cpu := benchutil.Start()
	for b.Loop() {
		if st := Main(args, Env{Stdout: io.Discard, Stderr: os.Stderr}); st != 0 {
			b.Fatal("run failed")
		}
	}
	cpu.Report(b)
	b.ReportMetric(1_180_110*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
}

// TestRunVerifier61 runs xdp.bpf.o's xdp_fields rewritten by the 6.1
// model on both architectures: 6.1 calls percpu_array_map_lookup_elem
// where 6.18 inlines it, so the kernel memory model must implement it.
// 1 is what Debian's arm64 and x86-64 6.1 kernels returned for it under
// QEMU (live/qemu/boot.sh, kernel verify /obj/xdp.bpf.o).
func TestRunVerifier61(t *testing.T) {
	for _, arch := range []string{"arm64", "x86_64"} {
		out, errOut, status := runCLI(t, "run", "../live/testdata/xdp.bpf.o", "--arch", arch, "--profile", "v6.1",
			"--verifier", "profile", "--entry", "xdp_fields", "--format", "json")
		if status != 0 {
			t.Fatalf("%s: status %d: %s", arch, status, errOut)
		}
		var res runResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Error != "" || res.Retval != 1 {
			t.Errorf("%s: retval %d (error %q), the 6.1 kernels returned 1", arch, res.Retval, res.Error)
		}
	}
}

// TestRunVerifier61LdAbs: 6.1 turns LD_ABS/LD_IND into calls of
// bpf_skb_load_helper_*_no_cache, which the kernel memory model
// implements: ld_abs of the 6.1 capture sources returns 58 on verify's
// packet (8 + 0x0800 + 0x45000032 + 0x0800, low byte), as the arm64 6.1
// kernel returned under QEMU.
func TestRunVerifier61LdAbs(t *testing.T) {
	tg, err := session.LoadTarget("../testdata/captures-src/obj/arm64-calls.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		p, err := tg.PickProfile(arch, "v6.1")
		if err != nil {
			t.Fatal(err)
		}
		f, err := tg.ProfileFacts(arch, p)
		if err != nil {
			t.Fatal(err)
		}
		vt, err := tg.Verified(arch, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := runTarget(vt, arch, p, "ld_abs", runLimits{steps: verifyMaxSteps, mem: DefaultMaxMem}, nil, verifyPacket, &f)
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != "" || res.Retval != 58 {
			t.Errorf("%s: retval %d (error %q), want 58", arch, res.Retval, res.Error)
		}
	}
}
