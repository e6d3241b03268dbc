// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"strings"
	"testing"
)

// dump OBJ --verifier v6.1 compiles what Linux 6.1's JIT receives, on
// both architectures: skb->len is the load from struct sk_buff at 112
// (Debian 6.1), not the uapi offset 0. A --profile that names another
// kernel is refused.
func TestDumpVerifier61(t *testing.T) {
	obj := "../testdata/captures-src/obj/qemu-tailcall_simple.bpf.o"
	for _, c := range []struct{ arch, raw, ver string }{
		{"arm64", "ldr w2, [x0]\n", "ldr w2, [x0, #112]"},
		{"x86_64", "mov 0x0(%rdi),%edx", "mov 0x70(%rdi),%edx"},
	} {
		raw, errOut, status := runCLI(t, "dump", obj, "--arch", c.arch, "--profile", "v6.1", "--plain")
		if status != 0 {
			t.Fatalf("%s: dump: %s", c.arch, errOut)
		}
		ver, errOut, status := runCLI(t, "dump", obj, "--arch", c.arch, "--verifier", "v6.1", "--plain")
		if status != 0 {
			t.Fatalf("%s: dump --verifier v6.1: %s", c.arch, errOut)
		}
		if !strings.Contains(raw, c.raw) || strings.Contains(raw, c.ver) {
			t.Errorf("%s without --verifier: want %q:\n%s", c.arch, c.raw, raw)
		}
		if !strings.Contains(ver, c.ver) || strings.Contains(ver, c.raw) {
			t.Errorf("%s with --verifier v6.1: want %q:\n%s", c.arch, c.ver, ver)
		}
		same, errOut, status := runCLI(t, "dump", obj, "--arch", c.arch, "--verifier", "profile", "--profile", "v6.1", "--plain")
		if status != 0 || same != ver {
			t.Errorf("%s: --verifier profile --profile v6.1 differs from --verifier v6.1 (%d %s)", c.arch, status, errOut)
		}
	}
	if _, errOut, status := runCLI(t, "dump", obj, "--arch", "arm64", "--verifier", "v6.1", "--profile", "v6.18"); status != 1 || !strings.Contains(errOut, "one kernel's") {
		t.Errorf("--verifier v6.1 --profile v6.18: %d %q", status, errOut)
	}
	if _, errOut, status := runCLI(t, "dump", obj, "--arch", "arm64", "--verifier", "v6.18"); status != 1 || !strings.Contains(errOut, "no verifier facts for arm64 v6.18") {
		t.Errorf("--verifier v6.18 on arm64: %d %q", status, errOut)
	}
}

// dump CAPTURE --object OBJ --compare: the capture's program from the
// object as written, through the verifier model with the capture's facts
// and the JIT at its addresses, is the kernel's (xlated and image) on
// 6.1 arm64 (bpf_loop inlined, callbacks) and x86-64 (tail calls).
func TestDumpCaptureFromObject(t *testing.T) {
	for _, c := range []struct{ capture, arch, obj, fn string }{
		{"arm64-6.1-src/calls/callbacks", "arm64", "arm64-calls", "loop_cb: identical"},
		{"arm64-6.1-bti/tailcall_simple/entry", "arm64", "qemu-tailcall_simple", "entry: identical"},
		{"x86_64-6.1/tailcall_simple/entry", "x86_64", "qemu-tailcall_simple", "entry: identical"},
	} {
		out, errOut, status := runCLI(t, "dump", "../testdata/captures/"+c.capture, "--arch", c.arch,
			"--object", "../testdata/captures-src/obj/"+c.obj+".bpf.o", "--compare")
		if status != 0 || !strings.Contains(out, "xlated from the object: identical\n") || !strings.Contains(out, c.fn) {
			t.Errorf("%s: status %d, %q\n%s", c.capture, status, errOut, out)
		}
	}
	obj := "../testdata/captures-src/obj/arm64-calls.bpf.o"
	if _, errOut, status := runCLI(t, "dump", obj, "--object", obj); status != 1 || !strings.Contains(errOut, "needs a kernel capture") {
		t.Errorf("--object on an object: %d %q", status, errOut)
	}
	if _, errOut, status := runCLI(t, "dump", "../testdata/captures/x86_64-6.1/tailcall_simple/entry", "--arch", "x86_64", "--object", obj); status != 1 || !strings.Contains(errOut, "has no program entry") {
		t.Errorf("--object without the program: %d %q", status, errOut)
	}
}
