// SPDX-License-Identifier: GPL-2.0-only

package walk

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	src := `# a walkthrough
scenario bpf2bpf-tailcall
caption  Where   the count lives
goto 2   # the second stop
wait 1.5s
key j j enter ctrl+d #
type /x26
play
wait tour
goto last
pause
`
	s, err := Parse("w.walk", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Scenario != "bpf2bpf-tailcall" {
		t.Errorf("Scenario = %q", s.Scenario)
	}
	want := []Action{
		{Kind: Caption, Line: 3, Text: "Where the count lives"},
		{Kind: Goto, Line: 4, Stop: 1},
		{Kind: Wait, Line: 5, Dur: 1500 * time.Millisecond},
		{Kind: Key, Line: 6, Keys: []string{"j", "j", "enter", "ctrl+d", "#"}},
		{Kind: Type, Line: 7, Text: "/x26"},
		{Kind: Play, Line: 8},
		{Kind: Wait, Line: 9, UntilEnd: true},
		{Kind: Goto, Line: 10, Stop: LastStop},
		{Kind: Pause, Line: 11},
	}
	if len(s.Actions) != len(want) {
		t.Fatalf("%d actions, want %d: %+v", len(s.Actions), len(want), s.Actions)
	}
	for i, w := range want {
		g := s.Actions[i]
		if g.Kind != w.Kind || g.Line != w.Line || g.Text != w.Text || g.Stop != w.Stop || g.Dur != w.Dur ||
			g.UntilEnd != w.UntilEnd || strings.Join(g.Keys, ",") != strings.Join(w.Keys, ",") {
			t.Errorf("action %d = %+v, want %+v", i, g, w)
		}
	}
}

// Every error names the file and the line.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"key s\n", "w.walk:1: key before the scenario line"},
		{"\n\nscenario a\nscenario b\n", "w.walk:4: a second scenario line"},
		{"scenario a\nwait 2x\n", `w.walk:2: wait "2x": want a duration`},
		{"scenario a\nwait -1s\n", `w.walk:2: wait "-1s"`},
		{"scenario a\nwait 11m\n", "w.walk:2: wait 11m: more than"},
		{"scenario a\n\nkey F13\n", `w.walk:3: key "F13": not a key`},
		{"scenario a\nkey\n", "w.walk:2: key needs at least one key"},
		{"scenario a\ngoto 0\n", `w.walk:2: goto "0"`},
		{"scenario a\ngoto x\n", `w.walk:2: goto "x"`},
		{"scenario a\njump 3\n", `w.walk:2: unknown action "jump"`},
		{"scenario a\nplay now\n", "w.walk:2: play takes no argument"},
		{"scenario a b\n", "w.walk:1: scenario takes one NAME"},
		{"# nothing\n", "w.walk:1: no `scenario NAME` line"},
		{"scenario a\ntype\n", "w.walk:2: type needs a text"},
		{"scenario a\ncaption \xff\n", "w.walk:2: not UTF-8"},
	} {
		_, err := Parse("w.walk", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error starting %q", c.src, err, c.want)
		}
	}
}

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{"s": true, "G": true, "/": true, "enter": true, "shift+tab": true, "ctrl+c": true,
		"ctrl+C": false, "ctrl+": false, "ab": false, " ": false, "F1": false, "é": true} {
		if got := ValidKey(k); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", k, got, want)
		}
	}
}
