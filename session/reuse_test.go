// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// TestRunReusesLoaded: a run given the listing's loaded programs (what the
// JIT compiled) and one that loads them again itself run every built-in
// scenario the same way, with each architecture's newest profile: steps,
// events, return value. (Profiles whose load options differ from the
// machine's, 5.10's unrounded stack depth, do not offer them.)
func TestRunReusesLoaded(t *testing.T) {
	reused := 0
	for _, info := range scenarios.Builtins() {
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			ps := jit.Profiles(arch)
			for _, p := range ps[len(ps)-1:] {
				s, err := Load(info.Name, Options{Arches: []kernel.Arch{arch}, Profiles: map[kernel.Arch]string{arch: p.Name}})
				if err != nil {
					t.Fatal(err)
				}
				l := s.Listings[0]
				if l.Err != nil {
					continue // refused by this profile, as the kernel would
				}
				if l.loadOpts == (kernel.Options{Layout: l.Profile.Layout}) && len(l.loaded) > 0 {
					reused++
				}
				got := s.newRun(l)
				saved := l.loaded
				l.loaded = nil
				want := s.newRun(l)
				l.loaded = saved
				name := fmt.Sprintf("%s/%s/%s", info.Name, arch, p.Name)
				if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) || got.Ran != want.Ran || got.Retval != want.Retval ||
					!reflect.DeepEqual(got.Steps, want.Steps) || !reflect.DeepEqual(got.events, want.events) {
					t.Errorf("%s: the run with the listing's loaded programs differs: ran %v, retval %d, %d steps, %d events; want %v, %d, %d, %d",
						name, got.Ran, got.Retval, len(got.Steps), len(got.events), want.Ran, want.Retval, len(want.Steps), len(want.events))
				}
			}
		}
	}
	if reused == 0 {
		t.Error("no listing offered its loaded programs to a run")
	}
}
