// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/jitscope/jitscope/live"
	"github.com/jitscope/jitscope/scenarios"
)

// requireKernel skips a test that needs the running kernel's BPF (root,
// kptr_restrict=0, a JIT), saying what is missing.
func requireKernel(t *testing.T) {
	t.Helper()
	if err := live.ReadConditions().Check(); err != nil {
		t.Skipf("skipped: %v", err)
	}
}

var (
	idRE      = regexp.MustCompile(`\(id (\d+)\)`)
	runDiffRE = regexp.MustCompile(`run: kernel returned \d+, the emulator \d+`)
)

// loadedIDs returns the program ids a verify run printed.
func loadedIDs(out string) []uint32 {
	seen := map[uint32]bool{}
	var ids []uint32
	for _, m := range idRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 32)
		if !seen[uint32(n)] {
			seen[uint32(n)] = true
			ids = append(ids, uint32(n))
		}
	}
	return ids
}

// assertGone fails unless none of ids is loaded any more.
func assertGone(t *testing.T, ids []uint32) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for _, id := range ids {
		for {
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if err == nil {
				p.Close()
			}
			if time.Now().After(deadline) {
				t.Errorf("program %d is still loaded", id)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// countOurs counts loaded programs whose names are among names (the
// kernel keeps 15 characters); other programs (other tools) do not count.
func countOurs(t *testing.T, names map[string]bool) int {
	t.Helper()
	progs, err := live.List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range progs {
		if names[p.Name] {
			n++
		}
	}
	return n
}

func progNames(t *testing.T, target string) map[string]bool {
	t.Helper()
	s, err := scenarios.Load(target)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range s.Programs {
		n := p.Name
		if len(n) > 15 {
			n = n[:15]
		}
		names[n] = true
	}
	return names
}

func verifyTargets(t *testing.T) []string {
	var targets []string
	for _, b := range scenarios.Builtins() {
		targets = append(targets, b.Name)
	}
	objs, err := filepath.Glob("../live/testdata/*.bpf.o")
	if err != nil || len(objs) < 5 {
		t.Fatalf("test objects: %v %v", objs, err)
	}
	return append(targets, objs...)
}

// Every built-in scenario and every test object: the kernel's image of
// every function equals jitscope's, and nothing stays loaded.
func TestKernelVerifyAll(t *testing.T) {
	requireKernel(t)
	for _, target := range verifyTargets(t) {
		t.Run(filepath.Base(target), func(t *testing.T) {
			names := progNames(t, target)
			before := countOurs(t, names)
			out, errOut, status := runCLI(t, "kernel", "verify", target)
			// gt_calls' helpers returns (jiffies + ktime-derived) & 1: the
			// kernel's and the emulator's runs may differ, and only that
			// may fail it.
			nondet := strings.HasSuffix(target, "gt_calls.bpf.o")
			if status != 0 && !(nondet && strings.Contains(errOut, "1 problems (first: helpers returned")) {
				t.Fatalf("status %d: %s\n%s", status, errOut, out)
			}
			ids := loadedIDs(out)
			if len(ids) == 0 {
				t.Fatalf("no program ids in the output:\n%s", out)
			}
			funcs := 0
			for _, line := range strings.Split(out, "\n") {
				if idRE.MatchString(line) {
					funcs++
					if !strings.Contains(line, ": identical (") {
						t.Errorf("not identical: %s", line)
					}
				}
				if (strings.Contains(line, ": xlated from the object: ") || strings.Contains(line, ": image from the object: ")) && !strings.Contains(line, "object: identical") {
					t.Errorf("the object path differs: %s", line)
				}
				if runDiffRE.MatchString(line) && !(nondet && strings.HasPrefix(line, "helpers: ")) {
					t.Errorf("run differs: %s", line)
				}
				// Every run is compared: the emulator runs the image of
				// the rewritten program on the kernel memory model.
				if strings.Contains(line, ": run: ") && !strings.Contains(line, ": run: kernel and emulator both returned ") && !runDiffRE.MatchString(line) {
					t.Errorf("run not compared: %s", line)
				}
			}
			if n := strings.Count(out, ": run: kernel "); n != len(ids) {
				t.Errorf("%d run comparisons for %d programs:\n%s", n, len(ids), out)
			}
			if strings.Count(out, "image from the object: identical") != len(ids) {
				t.Errorf("not every program's image from the object is identical:\n%s", out)
			}
			if status == 0 && !strings.Contains(out, fmt.Sprintf("identical: %d functions in", funcs)) {
				t.Errorf("no closing summary for %d functions:\n%s", funcs, out)
			}
			assertGone(t, ids)
			if after := countOurs(t, names); after != before {
				t.Errorf("%d programs named like the target's before, %d after", before, after)
			}
		})
	}
}

// A failure after loading unloads everything.
func TestKernelVerifyForcedError(t *testing.T) {
	requireKernel(t)
	target := "../live/testdata/tailcalls.bpf.o"
	names := progNames(t, target)
	before := countOurs(t, names)
	t.Setenv(verifyPauseEnv, "fail")
	out, errOut, status := runCLI(t, "kernel", "verify", target)
	if status != 1 || !strings.Contains(errOut, "forced failure") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("status %d, stderr %q, stdout %q", status, errOut, out)
	}
	deadline := time.Now().Add(3 * time.Second)
	for countOurs(t, names) != before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := countOurs(t, names); after != before {
		t.Errorf("after a forced error: %d programs of the object loaded, %d before", after, before)
	}
}

// jitscopeBinary builds the command into the test's temporary directory,
// for the tests that need a process of their own (signals, dropped
// privileges). The directories are made traversable for nobody.
func jitscopeBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "jitscope")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// Ctrl-C while programs are loaded unloads them.
func TestKernelVerifyInterrupt(t *testing.T) {
	requireKernel(t)
	bin := jitscopeBinary(t)
	cmd := exec.Command(bin, "kernel", "verify", "selftest-tailcall2")
	cmd.Env = append(os.Environ(), verifyPauseEnv+"=30s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var ids []uint32
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "loaded "); ok {
			_, list, _ := strings.Cut(rest, "(ids ")
			list, _, _ = strings.Cut(list, ")")
			for _, f := range strings.Fields(list) {
				n, _ := strconv.ParseUint(f, 10, 32)
				ids = append(ids, uint32(n))
			}
			break
		}
	}
	if len(ids) != 6 {
		t.Fatalf("want the ids of 6 loaded programs, got %v", ids)
	}
	for _, id := range ids {
		p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			t.Fatalf("program %d is not loaded while verify pauses: %v", id, err)
		}
		p.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if !strings.Contains(stderr.String(), "interrupted") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q, want one line saying it was interrupted", stderr.String())
	}
	assertGone(t, ids)
}

// A program another tool loaded is listed and shown beside jitscope's
// prediction.
func TestKernelBpftoolProgram(t *testing.T) {
	requireKernel(t)
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("skipped: no bpftool")
	}
	pin := fmt.Sprintf("/sys/fs/bpf/jitscope_test_%d", os.Getpid())
	obj, _ := filepath.Abs("../live/testdata/ctx.bpf.o")
	if out, err := exec.Command(bpftool, "prog", "load", obj, pin).CombinedOutput(); err != nil {
		t.Fatalf("bpftool prog load: %v: %s", err, out)
	}
	defer os.Remove(pin)
	out, err := exec.Command(bpftool, "-j", "prog", "show", "pinned", pin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(out, &shown); err != nil || shown.ID == 0 {
		t.Fatalf("bpftool prog show: %v %s", err, out)
	}
	list, errOut, status := runCLI(t, "kernel", "list")
	if status != 0 {
		t.Fatalf("kernel list: %d %s", status, errOut)
	}
	found := false
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[0] == fmt.Sprint(shown.ID) {
			found = f[1] == "sched_cls" && f[2] == "skb_fields"
		}
	}
	if !found {
		t.Errorf("program %d (skb_fields, sched_cls) not listed:\n%s", shown.ID, list)
	}
	// Without a terminal, `jitscope kernel` lists.
	if bare, _, status := runCLI(t, "kernel"); status != 0 || !strings.HasPrefix(bare, "ID ") || !strings.Contains(bare, " skb_fields ") {
		t.Errorf("jitscope kernel without a terminal: status %d:\n%s", status, bare)
	}
	dump, errOut, status := runCLI(t, "kernel", "dump", fmt.Sprint(shown.ID))
	if status != 0 {
		t.Fatalf("kernel dump: %d %s", status, errOut)
	}
	if !strings.Contains(dump, fmt.Sprintf("program %d: identical", shown.ID)) || !strings.Contains(dump, "int skb_fields(struct __sk_buff *skb):") {
		t.Errorf("kernel dump %d:\n%s", shown.ID, dump)
	}
	// Both columns: the kernel's instruction and jitscope's.
	if !regexp.MustCompile(`(?m)^  0xffffffff[0-9a-f]{8}: .*\| .*\S`).MatchString(dump) {
		t.Errorf("no side-by-side rows:\n%s", dump)
	}
	js, _, status := runCLI(t, "kernel", "dump", fmt.Sprint(shown.ID), "--format", "json")
	var res struct {
		ID        uint32 `json:"id"`
		Identical bool   `json:"identical"`
		Functions []struct {
			Name          string `json:"name"`
			KernelBytes   string `json:"kernel_bytes"`
			JitscopeBytes string `json:"jitscope_bytes"`
		} `json:"functions"`
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil || status != 0 {
		t.Fatalf("json: %v (status %d)", err, status)
	}
	if !res.Identical || len(res.Functions) != 1 || res.Functions[0].KernelBytes != res.Functions[0].JitscopeBytes || res.Functions[0].KernelBytes == "" {
		t.Errorf("json: %+v", res)
	}
	// --save writes a capture that dump --compare reads again, and never
	// overwrites.
	dir := filepath.Join(t.TempDir(), "cap")
	if _, errOut, status := runCLI(t, "kernel", "dump", fmt.Sprint(shown.ID), "--save", dir); status != 0 {
		t.Fatalf("--save: %s", errOut)
	}
	cmpOut, errOut, status := runCLI(t, "dump", dir, "--arch", "x86_64", "--compare")
	if status != 0 || !strings.Contains(cmpOut, "identical") {
		t.Errorf("dump --compare of the saved capture: %d %s %s", status, cmpOut, errOut)
	}
	if _, errOut, status := runCLI(t, "kernel", "dump", fmt.Sprint(shown.ID), "--save", dir); status != 1 || !strings.Contains(errOut, "not overwritten") {
		t.Errorf("--save over an existing directory: %d %q", status, errOut)
	}
}

// Without privileges: one line naming what is missing, status 1.
func TestKernelWithoutPrivileges(t *testing.T) {
	saved := kernelChecks
	defer func() { kernelChecks = saved }()
	kernelChecks = func() error {
		return live.Conditions{EUID: 1000, KptrRestrict: 2, JITEnable: 0, BPFSyscall: true}.Check()
	}
	for _, args := range [][]string{{"kernel", "list"}, {"kernel", "dump", "1"}, {"kernel", "verify", "bpf2bpf-tailcall"}} {
		out, errOut, status := runCLI(t, args...)
		if status != 1 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
		for _, w := range []string{"root", "kptr_restrict", "bpf_jit_enable"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: %q does not name %s", args, errOut, w)
			}
		}
	}
}

// The same with privileges really dropped: the process runs as nobody.
func TestKernelAsNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: dropping to nobody needs root")
	}
	bin := jitscopeBinary(t)
	cmd := exec.Command(bin, "kernel", "list")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, stderr %q", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "jitscope: cannot use the running kernel's BPF: needs root") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestKernelUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kernel", "dump"}, "one program ID"},
		{[]string{"kernel", "dump", "abc"}, `"abc" is not a program id`},
		{[]string{"kernel", "frob"}, `unknown subcommand "frob"`},
		{[]string{"kernel", "list", "--format", "yaml"}, "--format must be text or json"},
		{[]string{"kernel", "verify"}, "one TARGET"},
		{[]string{"kernel", "list", "--config", "novalue"}, "KEY=VALUE"},
		{[]string{"kernel", "list", "--config-file", "/nonexistent"}, "apply to dump and verify"},
	} {
		_, errOut, status := runCLI(t, c.args...)
		if status != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, errOut, c.want)
		}
	}
}

// dump --verifier compiles what the kernel's JIT receives: context
// accesses on struct sk_buff (sk_buff.data at 0xc8 on 6.18), not on the
// uapi __sk_buff (data at 0x4c).
func TestDumpVerifierProfile(t *testing.T) {
	obj := "../live/testdata/ctx.bpf.o"
	raw, errOut, status := runCLI(t, "dump", obj, "--arch", "x86_64", "--profile", "v6.18", "--plain")
	if status != 0 {
		t.Fatalf("dump: %s", errOut)
	}
	ver, errOut, status := runCLI(t, "dump", obj, "--arch", "x86_64", "--profile", "v6.18", "--plain", "--verifier", "profile")
	if status != 0 {
		t.Fatalf("dump --verifier: %s", errOut)
	}
	if !strings.Contains(raw, "mov 0x4c(%rdi),") || strings.Contains(raw, "mov 0xc8(%rdi),") {
		t.Errorf("without --verifier: want the uapi offset 0x4c of data:\n%s", raw)
	}
	if !strings.Contains(ver, "mov 0xc8(%rdi),") || strings.Contains(ver, "mov 0x4c(%rdi),") {
		t.Errorf("with --verifier: want sk_buff.data at 0xc8:\n%s", ver)
	}
	// The tc_index store becomes a 16-bit store to sk_buff.tc_index.
	if !strings.Contains(ver, "mov %si,0x84(%rdi)") {
		t.Errorf("with --verifier: no 16-bit store to sk_buff.tc_index (0x84):\n%s", ver)
	}
	if _, errOut, status := runCLI(t, "dump", obj, "--arch", "arm64", "--verifier", "profile"); status != 1 || !strings.Contains(errOut, "no verifier facts for arm64") {
		t.Errorf("arm64: %d %q", status, errOut)
	}
	if _, errOut, status := runCLI(t, "dump", obj, "--arch", "x86_64", "--verifier", "maybe"); status != 1 || !strings.Contains(errOut, "--verifier must be profile or host") {
		t.Errorf("bad --verifier: %d %q", status, errOut)
	}
	if _, errOut, status := runCLI(t, "dump", "../testdata/captures/x86_64-6.18/tailcall_simple/entry", "--arch", "x86_64", "--verifier", "profile"); status != 1 || !strings.Contains(errOut, "already the verifier's output") {
		t.Errorf("capture: %d %q", status, errOut)
	}
}

// dump --verifier --rewrites: BPF as written beside BPF as the JIT sees it.
func TestDumpRewrites(t *testing.T) {
	out, errOut, status := runCLI(t, "dump", "../live/testdata/maps.bpf.o", "--arch", "x86_64", "--profile", "v6.18", "--verifier", "profile", "--rewrites")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errOut)
	}
	for _, re := range []string{
		`(?m)^\*\s+10  call bpf_map_lookup_elem\s+\| r1 \+= 312$`, // array_map_gen_lookup, bpf_array.value
		`(?m)^\s+10\s+\| if r0 >= 4 goto \+3$`,
		`(?m)^\*\s+23  call bpf_map_update_elem\s+\| call htab_map_update_elem$`,
		`(?m)^\s+26\s+\| r0 \+= 56$`, // htab_elem.key + round_up(key_size, 8)
		`(?m)^\s+12  if r0 == 0 goto \+3\s+\| if r0 == 0 goto \+3$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s:\n%s", re, out)
		}
	}
	if _, errOut, status := runCLI(t, "dump", "../live/testdata/maps.bpf.o", "--arch", "x86_64", "--rewrites"); status != 1 || !strings.Contains(errOut, "--rewrites needs --verifier") {
		t.Errorf("--rewrites alone: %d %q", status, errOut)
	}
}

// The comparison can fail: told the CPU lacks BMI2, jitscope shifts by
// cl where the kernel used shlx, and verify says where and exits 1.
func TestKernelVerifyOverrideDiffers(t *testing.T) {
	requireKernel(t)
	out, errOut, status := runCLI(t, "kernel", "verify", "../live/testdata/classes.bpf.o", "--config", "cpu:bmi2=n")
	if status != 1 || !strings.Contains(errOut, "alu/alu differs") {
		t.Fatalf("status %d, stderr %q", status, errOut)
	}
	if !regexp.MustCompile(`alu: differs at \+0x[0-9a-f]+: kernel "shlx `).MatchString(out) {
		t.Errorf("no first difference at a shlx:\n%s", out)
	}
	if !strings.Contains(out, "mem (id ") || !strings.Contains(out, "mem: identical") {
		t.Errorf("the programs without register shifts should stay identical:\n%s", out)
	}
	assertGone(t, loadedIDs(out))
}
