// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/kernel"
)

// With the verifier's rewrites shown, a session's run executes the
// listing's image (the rewritten program) on the kernel memory model:
// skb_fields reads struct sk_buff and returns what this project's 6.18
// machine returned (cli/testdata/kernel_runs.txt); the helper events
// name the kernel functions the rewritten program calls.
func TestRunVerifiedListing(t *testing.T) {
	for _, c := range []struct {
		obj    string
		retval uint64
		call   string
	}{
		{"../live/testdata/ctx.bpf.o", 15039, ""},
		{"../live/testdata/maps.bpf.o", 1312, "htab_map_update_elem"},
	} {
		s, err := Load(c.obj, Options{Arches: []kernel.Arch{kernel.X86_64},
			Profiles: map[kernel.Arch]string{kernel.X86_64: "v6.18"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetVerifier(true); err != nil {
			t.Fatal(err)
		}
		l := s.Compile(kernel.X86_64, "v6.18", SyntaxDefault)
		if l.Err != nil || l.Rewrites == nil {
			t.Fatalf("%s: compile: %v", c.obj, l.Err)
		}
		r := s.Run(l)
		if !r.Ran || r.Err != nil || r.Retval != c.retval {
			t.Fatalf("%s: ran %v, err %v, retval %d, want %d", c.obj, r.Ran, r.Err, r.Retval, c.retval)
		}
		if c.call == "" {
			continue
		}
		found := false
		for _, e := range r.events {
			found = found || (e.Kind == "helper" && e.To == c.call)
		}
		if !found {
			t.Errorf("%s: no call of %s in %v", c.obj, c.call, r.events)
		}
		// The run as written is another run (cached apart).
		if err := s.SetVerifier(false); err != nil {
			t.Fatal(err)
		}
		if w := s.Run(s.Compile(kernel.X86_64, "v6.18", SyntaxDefault)); w == r {
			t.Errorf("%s: the run as written is the rewritten run", c.obj)
		}
	}
}

// A kernel capture runs on the kernel memory model too: xdp_rewrite
// moves data with bpf_xdp_adjust_head on its struct xdp_buff and returns
// what the kernel returned when it was captured (XDP_PASS on 64 zero
// bytes, capture.json "run").
func TestRunCapture(t *testing.T) {
	s, err := Load("../testdata/captures/x86_64-6.18-src/xdp/xdp_rewrite", Options{Arches: []kernel.Arch{kernel.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRunConfig(RunConfig{Packet: "0x" + strings.Repeat("00", 64)}); err != nil {
		t.Fatal(err)
	}
	r := s.Run(s.Listings[0])
	if !r.Ran || r.Err != nil || r.Retval != 2 {
		t.Fatalf("ran %v, err %v, retval %d, want 2", r.Ran, r.Err, r.Retval)
	}
}
