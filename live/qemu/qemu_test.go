// SPDX-License-Identifier: GPL-2.0-only

package qemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConsole(t *testing.T) {
	log := strings.Join([]string{
		"[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x000f0510]",
		"JSQEMU UNAME 6.1.0-50-arm64 aarch64",
		"JSQEMU BEGIN kernel verify tailcall-limit --config-file /boot/config",
		"verify tailcall-limit on Linux 6.1.0-50-arm64 (arm64), profile v6.1",
		"[  277.442206] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [jitscope:175]",
		"identical: 2 functions in 2 programs\r",
		"JSQEMU END 0",
		"JSQEMU BEGIN kernel verify x",
		"[1] not a timestamp",
		"JSQEMU END 1",
		"JSQEMU BEGIN kernel verify hangs",
		"verify hangs",
	}, "\n")
	c, err := ParseConsole(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if c.Release != "6.1.0-50-arm64" || c.Machine != "aarch64" || len(c.Runs) != 2 || c.Unfinished != "kernel verify hangs" {
		t.Fatalf("parsed %+v", c)
	}
	r := c.Runs[0]
	if r.Command != "kernel verify tailcall-limit --config-file /boot/config" || r.Status != 0 ||
		strings.Join(r.Output, "|") != "verify tailcall-limit on Linux 6.1.0-50-arm64 (arm64), profile v6.1|identical: 2 functions in 2 programs" {
		t.Errorf("run 0: %+v", r)
	}
	if c.Runs[1].Status != 1 || len(c.Runs[1].Output) != 1 {
		t.Errorf("run 1: %+v", c.Runs[1])
	}
	for _, bad := range []string{
		"JSQEMU UNAME a b\nJSQEMU END 0",
		"JSQEMU UNAME a b\nJSQEMU BEGIN x\nJSQEMU BEGIN y",
		"JSQEMU UNAME a b\nJSQEMU BEGIN x\nJSQEMU END zero",
		"JSQEMU BEGIN x\nJSQEMU END 0",
	} {
		if _, err := ParseConsole(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestArm64Kernel boots Debian's arm64 6.1 kernel under QEMU (TCG) with
// jitscope inside and runs `jitscope kernel verify` on every built-in
// scenario and the test objects an arm64 6.1 kernel can load: every
// function's image, the verifier's rewrites and every run must equal the
// kernel's. It takes 30-40 minutes on two cores (each selftest-hierarchy
// scenario runs 20 M emulated instructions under TCG before verify
// declines to hand it to the kernel), so it runs only when asked:
// JITSCOPE_QEMU=1 go test ./live/qemu -run TestArm64Kernel -timeout 90m
func TestArm64Kernel(t *testing.T) {
	if os.Getenv("JITSCOPE_QEMU") == "" {
		t.Skip("skipped: boots arm64 Linux 6.1 under QEMU for 30-40 minutes; set JITSCOPE_QEMU=1 to run it")
	}
	if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		t.Skip("skipped: qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)")
	}
	kdir := os.Getenv("KDIR")
	if kdir == "" {
		home, _ := os.UserHomeDir()
		kdir = filepath.Join(home, ".cache", "jitscope-gt")
	}
	if m, _ := filepath.Glob(filepath.Join(kdir, "k-arm64", "boot", "vmlinuz-*")); len(m) == 0 {
		t.Skipf("skipped: no arm64 6.1 kernel in %s/k-arm64 (run /work/shared/groundtruth/qemu/fetch_kernels.sh)", kdir)
	}
	out, err := exec.Command("go", "run", "../..", "list").Output()
	if err != nil {
		t.Fatalf("jitscope list: %v", err)
	}
	var cmds []string
	for i, l := range strings.Split(string(out), "\n") {
		if i == 0 {
			continue
		}
		if strings.TrimSpace(l) == "" {
			break
		}
		cmds = append(cmds, "kernel verify "+strings.Fields(l)[0]+" --config-file /boot/config")
	}
	// The objects of live/testdata a 6.1 kernel loads (the gt_* objects
	// use cpu v4 instructions, which 6.1 refuses as reserved fields).
	for _, o := range []string{"classes", "ctx", "maps", "tailcalls", "xdp"} {
		cmds = append(cmds, "kernel verify /obj/"+o+".bpf.o --config-file /boot/config")
	}
	// The objects of the 6.1 captures' sources (testdata/captures-src).
	objs, _ := filepath.Glob("../../testdata/captures-src/obj/*.bpf.o")
	if len(objs) == 0 {
		t.Fatal("no objects in testdata/captures-src/obj")
	}
	for _, o := range objs {
		cmds = append(cmds, "kernel verify /obj/"+filepath.Base(o)+" --config-file /boot/config")
	}
	cmds = append(cmds, "kernel list")
	dir := t.TempDir()
	cf := filepath.Join(dir, "cmds")
	if err := os.WriteFile(cf, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "console.log")
	boot := exec.Command("bash", "boot.sh", "arm64", logf, cf)
	boot.Stdout, boot.Stderr = os.Stderr, os.Stderr
	if err := boot.Run(); err != nil {
		t.Fatalf("boot.sh: %v", err)
	}
	f, err := os.Open(logf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseConsole(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Machine != "aarch64" || !strings.HasPrefix(c.Release, "6.1.") {
		t.Errorf("guest is %s %s, want aarch64 6.1", c.Release, c.Machine)
	}
	if c.Unfinished != "" {
		t.Errorf("the guest did not finish %q", c.Unfinished)
	}
	if len(c.Runs) != len(cmds) {
		t.Errorf("%d commands ran, want %d", len(c.Runs), len(cmds))
	}
	for _, r := range c.Runs {
		text := strings.Join(r.Output, "\n")
		t.Logf("%s: exit %d\n%s", r.Command, r.Status, text)
		if r.Status != 0 {
			t.Errorf("%s: exit status %d:\n%s", r.Command, r.Status, text)
		}
		for _, l := range r.Output {
			if strings.Contains(l, "not compared") {
				t.Errorf("%s: %s", r.Command, l)
			}
		}
	}
}
