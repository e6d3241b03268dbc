// SPDX-License-Identifier: GPL-2.0-only

package session

import (
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
