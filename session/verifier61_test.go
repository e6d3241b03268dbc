// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
)

// The verifier mode works for v6.1 on both architectures: the arm64 and
// x86-64 v6.1 listings of tailcall_simple (a 6.1 capture's source) compile
// the rewritten programs, whose skb->len is the load from struct sk_buff
// at 112 (Debian 6.1), traced to the uapi load at 0 as written.
func TestVerifier61(t *testing.T) {
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		s, err := Load("../testdata/captures-src/obj/qemu-tailcall_simple.bpf.o", Options{Arches: []kernel.Arch{arch},
			Profiles: map[kernel.Arch]string{arch: "v6.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetVerifier(true); err != nil {
			t.Fatalf("%s: SetVerifier: %v", arch, err)
		}
		l := s.Compile(arch, "v6.1", SyntaxDefault)
		if l.Err != nil || l.Rewrites == nil {
			t.Fatalf("%s: Compile in verifier mode: err %v, rewrites %v", arch, l.Err, l.Rewrites != nil)
		}
		found := false
		for r := range l.Rows {
			in, ok := l.BPFInsn(r)
			if !ok || !strings.Contains(disasm.BPFText(in), "*(u32 *)(r1 + 112)") {
				continue
			}
			w, ok := l.Written(r)
			if !ok || !w.Changed || !strings.Contains(w.Text, "(r1 + 0)") {
				t.Errorf("%s: %s came from %+v, want the changed uapi load of len", arch, disasm.BPFText(in), w)
			}
			found = true
		}
		if !found {
			t.Errorf("%s: no load of sk_buff.len (112) in the v6.1 listing", arch)
		}
	}
}
