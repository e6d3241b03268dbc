// SPDX-License-Identifier: GPL-2.0-only

package record

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// needs skips unless the tools are installed.
func needs(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: this test needs Debian's asciinema and util-linux's script (apt-get install -y asciinema)", tool)
		}
	}
}

// inPTY runs a shell command on a 120x36 pseudo-terminal (asciinema wants
// one) and returns what it wrote there.
func inPTY(t *testing.T, command string) []byte {
	t.Helper()
	cmd := exec.Command("script", "-qec", "stty cols 120 rows 36; "+command, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	// A silent standard input that stays open: at the end of its input
	// script sends the terminal an EOF, which a program in raw mode reads
	// as ctrl+d (page down), and that would take over the tour.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd.Stdin = r
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	return out
}

// `asciinema cat` (Debian's asciinema) accepts the file and writes what
// its events hold; on a terminal that is the tour's final screen. asciinema
// play plays the same.
func TestAsciinemaCat(t *testing.T) {
	needs(t, "asciinema", "script")
	cast := recordTour(t, "bpf2bpf-tailcall")
	path := filepath.Join(t.TempDir(), "t.cast")
	if err := os.WriteFile(path, cast, 0o644); err != nil {
		t.Fatal(err)
	}
	out := inPTY(t, "asciinema cat "+path)
	_, evs := parseCast(t, cast)
	var want strings.Builder
	for _, e := range evs {
		want.WriteString(e.data)
	}
	if string(out) != want.String() {
		t.Fatalf("asciinema cat wrote %d bytes, the events hold %d", len(out), want.Len())
	}
	golden(t, "bpf2bpf-tailcall.screen", replay([]event{{0, string(out)}}))
	// asciinema play (fast, idle gaps cut to 1 ms) writes the same.
	if played := inPTY(t, "asciinema play -s 1000 -i 0.001 "+path); string(played) != want.String() {
		t.Errorf("asciinema play wrote %d bytes, the events hold %d", len(played), want.Len())
	}
}

// A live recording, `asciinema rec -c 'jitscope tour NAME'`, shows on
// the alternate screen what the headless recording shows, and leaves
// nothing behind on exit.
func TestLiveRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds jitscope and records it live")
	}
	needs(t, "asciinema", "script")
	dir := t.TempDir()
	bin := filepath.Join(dir, "jitscope")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/jitscope/jitscope").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	live := filepath.Join(dir, "live.cast")
	inPTY(t, "asciinema rec -q --overwrite -c '"+bin+" tour bpf2bpf-tailcall --speed 100 --exit --theme dark' "+live)
	data, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if i == 0 {
			continue
		}
		var ev []any
		if err := json.Unmarshal(line, &ev); err != nil || len(ev) != 3 {
			t.Fatalf("live recording line %d: %v", i+1, err)
		}
		if ev[1] == "o" {
			all.WriteString(ev[2].(string))
		}
	}
	out := all.String()
	const enter, leave = "\x1b[?1049h", "\x1b[?1049l"
	if !strings.Contains(out, enter) {
		t.Fatal("the live recording does not use the alternate screen")
	}
	cut := strings.LastIndex(out, leave)
	if cut < 0 {
		t.Fatal("the live recording does not leave the alternate screen")
	}
	if rest := strings.TrimSpace(ansi.Strip(out[cut:])); rest != "" {
		t.Errorf("output after leaving the alternate screen: %q", rest)
	}
	var buf bytes.Buffer
	o := fixed
	o.Speed = 100
	if err := Tour(&buf, "bpf2bpf-tailcall", o); err != nil {
		t.Fatal(err)
	}
	_, evs := parseCast(t, buf.Bytes())
	want := replay(evs)
	got := replay([]event{{0, out[:cut]}})
	if got != want {
		t.Errorf("the live tour's last screen differs from the recording's:\n%s", diffLines(want, got))
	}
}
