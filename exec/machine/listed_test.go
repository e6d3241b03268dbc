// SPDX-License-Identifier: GPL-2.0-only

package machine_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// TestNewRunnerListed: a runner given the listings a viewer made (in Intel
// syntax here) runs every selftest scenario exactly as one that lists the
// functions itself: the same events, tail call misses and their reasons
// included.
func TestNewRunnerListed(t *testing.T) {
	for _, c := range selftestCases {
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			ps := jit.Profiles(arch)
			p := ps[len(ps)-1]
			// Two machines: a run changes the kernel's memory (maps,
			// globals).
			m, err := stLoad(t, c.name, arch, p)
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, arch, err)
			}
			m2, err := stLoad(t, c.name, arch, p)
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, arch, err)
			}
			lists := map[*jit.FuncImage]*disasm.Func{}
			for _, img := range m2.k.Images {
				lp, err := disasm.ListOpts(img, disasm.Options{Intel: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range lp.Funcs {
					lists[f.Image] = f
				}
			}
			listed, err := machine.NewRunnerListed(m2.k, m2.prof, lists)
			if err != nil {
				t.Fatal(err)
			}
			want := m.run(100_000)
			m2.r = listed
			got := m2.run(100_000)
			if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) || got.Retval != want.Retval || !reflect.DeepEqual(got.Events, want.Events) {
				t.Errorf("%s %s: the listed runner's run differs: retval %d, %d events; want %d, %d events",
					c.name, arch, got.Retval, len(got.Events), want.Retval, len(want.Events))
			}
		}
	}
}
