// SPDX-License-Identifier: GPL-2.0-only

package jit

import "testing"

func TestTrampFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want TrampFlags
		str  string
	}{
		{"CALL_ORIG,SKIP_FRAME", TrampCallOrig | TrampSkipFrame, "CALL_ORIG|SKIP_FRAME"},
		{"BPF_TRAMP_F_IP_ARG|restore_regs", TrampIPArg | TrampRestoreRegs, "RESTORE_REGS|IP_ARG"},
		{"RET_FENTRY_RET", TrampRetFentryRet, "RET_FENTRY_RET"},
	} {
		got, err := ParseTrampFlags(tc.in)
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("ParseTrampFlags(%q) = %v (%s), %v; want %v (%s)", tc.in, uint32(got), got, err, uint32(tc.want), tc.str)
		}
	}
	// The kernel's values (include/linux/bpf.h).
	if TrampRestoreRegs != 1 || TrampCallOrig != 2 || TrampSkipFrame != 4 || TrampIPArg != 8 || TrampRetFentryRet != 16 {
		t.Error("BPF_TRAMP_F_* values differ from the kernel's")
	}
	if _, err := ParseTrampFlags("CALL_ORIGIN"); err == nil {
		t.Error("CALL_ORIGIN accepted")
	}
	// bpf_trampoline_update's choice.
	if f := DefaultTrampFlags(0, 0, false); f != TrampRestoreRegs {
		t.Errorf("fentry only: %s", f)
	}
	if f := DefaultTrampFlags(1, 0, true); f != TrampCallOrig|TrampSkipFrame|TrampIPArg {
		t.Errorf("fexit + ip: %s", f)
	}
	if f := DefaultTrampFlags(0, 2, false); f != TrampCallOrig|TrampSkipFrame {
		t.Errorf("fmod_ret: %s", f)
	}
}
