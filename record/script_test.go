// SPDX-License-Identifier: GPL-2.0-only

package record

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/walk"
)

func recordScript(t *testing.T, src string) (string, error) {
	t.Helper()
	s, err := walk.Parse("test.walk", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = Script(&buf, s, fixed)
	return buf.String(), err
}

const demoScript = `scenario bpf2bpf-tailcall
caption The tail call count on arm64: watch x26.
wait 2s
goto 2
wait 3s
key x       # run to the tail call
wait 1s
key s s
`

// A walkthrough's recording replays to its golden screen: stop 2's
// place, the run advanced to the tail call and two steps, the script's
// keys still in the overlay.
func TestScript(t *testing.T) {
	cast, err := recordScript(t, demoScript)
	if err != nil {
		t.Fatal(err)
	}
	_, evs := parseCast(t, []byte(cast))
	screen := replay(evs)
	golden(t, "demo-walk.screen", screen)
	for _, want := range []string{"⌨ x s s", "tour 2/9 · paused", "step 60/86"} {
		if !strings.Contains(screen, want) {
			t.Errorf("final screen lacks %q:\n%s", want, screen)
		}
	}
	again, _ := recordScript(t, demoScript)
	if again != cast {
		t.Error("two recordings of the script differ")
	}
	// The key overlay fades after ui.KeyOverlayTime.
	faded, err := recordScript(t, demoScript+"wait 2s\n")
	if err != nil {
		t.Fatal(err)
	}
	_, evs = parseCast(t, []byte(faded))
	if s := replay(evs); strings.Contains(s, "⌨") {
		t.Errorf("key overlay still shown 2 s after the last key:\n%s", s)
	}
}

// Autoplay from a script: play, then wait tour ends at the last stop.
func TestScriptPlay(t *testing.T) {
	cast, err := recordScript(t, "scenario direct-tailcall-poke\ngoto 3\nplay\nwait tour\n")
	if err != nil {
		t.Fatal(err)
	}
	_, evs := parseCast(t, []byte(cast))
	if s := replay(evs); !strings.Contains(s, "end of the tour") {
		t.Errorf("after wait tour, the screen does not say the tour ended:\n%s", s)
	}
}

// untoured writes a scenario file without a tour (every built-in has
// one): selftest-tailcall1 without its [[tour]] tables.
func untoured(t *testing.T) string {
	t.Helper()
	src, err := scenarios.Show("selftest-tailcall1")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(src), "\n[[tour]]")
	if i < 0 {
		t.Fatal("selftest-tailcall1 has no [[tour]] to drop")
	}
	path := filepath.Join(t.TempDir(), "untoured.scn")
	if err := os.WriteFile(path, src[:i+1], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScriptErrors(t *testing.T) {
	plain := untoured(t)
	for _, c := range []struct{ src, want string }{
		{"scenario bpf2bpf-tailcall\n\ngoto 12\n", "test.walk:3: goto 12: the tour of bpf2bpf-tailcall has stops 1 to 9"},
		{"scenario " + plain + "\nkey j\ngoto 1\n", "test.walk:3: goto: " + plain + " has no guided tour"},
		{"scenario bpf2bpf-tailcall\nwait tour\n", "test.walk:2: wait tour: the tour is not playing"},
		{"scenario no-such-thing\n", "test.walk:1: no-such-thing: not a built-in scenario"},
	} {
		_, err := recordScript(t, c.src)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

// KeyMsg makes the key press whose name the script gave.
func TestKeyMsg(t *testing.T) {
	for _, k := range []string{"s", "S", "G", "/", ":", "#", "+", "-", "enter", "space", "tab", "shift+tab", "esc",
		"backspace", "up", "down", "left", "right", "pgup", "pgdown", "home", "end", "ctrl+d", "ctrl+c"} {
		if !walk.ValidKey(k) {
			t.Errorf("ValidKey(%q) = false", k)
		}
		if got := KeyMsg(k).String(); got != k {
			t.Errorf("KeyMsg(%q).String() = %q", k, got)
		}
	}
}

// The walkthroughs in docs/ record: their keys, gotos and captions all
// resolve, and the recording is valid.
func TestDocWalkthroughs(t *testing.T) {
	files, _ := filepath.Glob("../docs/walkthroughs/*.walk")
	if len(files) == 0 {
		t.Fatal("no walkthroughs in docs/walkthroughs")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := walk.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Script(&buf, s, fixed); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, evs := parseCast(t, buf.Bytes())
		if screen := replay(evs); !strings.Contains(screen, " jitscope  bpf2bpf-tailcall") && strings.Contains(screen, "tour ") {
			t.Errorf("%s: the final screen has no listing or caption bar:\n%s", f, screen)
		}
	}
}

// Idle gaps are capped: a long wait is IdleLimit in the file, and the
// header says so.
func TestIdleLimit(t *testing.T) {
	cast, err := recordScript(t, "scenario bpf2bpf-tailcall\ncaption before\nwait 5m\ncaption after\n")
	if err != nil {
		t.Fatal(err)
	}
	h, evs := parseCast(t, []byte(cast))
	if h["idle_time_limit"] != 30.0 {
		t.Errorf("idle_time_limit = %v, want 30", h["idle_time_limit"])
	}
	var gap float64
	for i := 1; i < len(evs); i++ {
		gap = max(gap, evs[i].t-evs[i-1].t)
	}
	if gap != 30 {
		t.Errorf("longest gap %v s, want the 30 s cap", gap)
	}
}

// A scenario file with a tour records like a built-in.
func TestTourFromFile(t *testing.T) {
	src, err := scenarios.Show("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mine.scn")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Tour(&buf, path, fixed); err != nil {
		t.Fatal(err)
	}
	_, evs := parseCast(t, buf.Bytes())
	if s := replay(evs); !strings.Contains(s, "tour 9/9 · end of the tour") {
		t.Errorf("the file's tour did not play to its end:\n%s", s)
	}
}

// A stop that does not resolve stops the recording with its place.
func TestTourStopError(t *testing.T) {
	src, err := scenarios.Show("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "offset = 0x20", "offset = 0x1000", 1)
	if bad == string(src) {
		t.Fatal("the tour has no offset = 0x20 stop to break")
	}
	path := filepath.Join(t.TempDir(), "bad.scn")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = Tour(&buf, path, fixed)
	if err == nil || !strings.Contains(err.Error(), "tour stop 2 does not resolve: "+path+":") || !strings.Contains(err.Error(), "offset 0x1000 is past the end of entry") {
		t.Errorf("error %v", err)
	}
	s, _ := walk.Parse("w.walk", []byte("scenario "+path+"\ngoto 2\n"))
	err = Script(&buf, s, fixed)
	if err == nil || !strings.HasPrefix(err.Error(), "w.walk:2: goto 2: the stop does not resolve") {
		t.Errorf("script error %v", err)
	}
}
