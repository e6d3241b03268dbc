// SPDX-License-Identifier: GPL-2.0-only

package walk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the walkthrough script parser. Nothing
// may panic; a refusal is one line that starts with "file:line: "; an
// accepted script names its scenario, its actions are in line order, every
// key is one a script may press and every wait is bounded.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../docs/walkthroughs/*.walk")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("scenario bpf2bpf-tailcall\ngoto last\nwait tour\nkey ctrl+t s S\ntype /bti\ncaption  a  b \n"))
	f.Add([]byte("scenario x\nwait 10m1s\n"))
	f.Add([]byte("key s\n"))
	f.Add([]byte("scenario x # y\n# only a comment\nkey #\n"))
	f.Add([]byte("scenario a\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.walk", data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "f.walk:") || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line naming file:line: %q", msg)
			}
			return
		}
		if s.Scenario == "" || strings.ContainsAny(s.Scenario, " \t") {
			t.Fatalf("accepted script names scenario %q", s.Scenario)
		}
		last := 0
		for i := range s.Actions {
			a := &s.Actions[i]
			if a.Line <= last {
				t.Fatalf("action %d at line %d after line %d", i, a.Line, last)
			}
			last = a.Line
			switch a.Kind {
			case Key:
				if len(a.Keys) == 0 {
					t.Fatalf("%s: key action without keys", s.Where(a))
				}
				for _, k := range a.Keys {
					if !ValidKey(k) {
						t.Fatalf("%s: accepted key %q", s.Where(a), k)
					}
				}
			case Wait:
				if a.Dur < 0 || a.Dur > MaxWait {
					t.Fatalf("%s: wait %v out of bounds", s.Where(a), a.Dur)
				}
			case Goto:
				if a.Stop < LastStop {
					t.Fatalf("%s: goto stop %d", s.Where(a), a.Stop)
				}
			case Caption, Type, Play, Pause:
			default:
				t.Fatalf("%s: unknown kind %q accepted", s.Where(a), a.Kind)
			}
		}
	})
}
