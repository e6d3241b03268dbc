// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/ui"
)

// The terminal UI's tour player puts every stop of every built-in tour on
// the instruction `jitscope show NAME --tour` prints for it (both from
// session.ResolveTour: the UI must not place a stop anywhere else).
func TestTourPlacementMatchesShow(t *testing.T) {
	n := 0
	for _, b := range scenarios.Builtins() {
		stops, err := resolveTour(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(stops) == 0 {
			t.Errorf("%s has no tour", b.Name)
			continue
		}
		sess, err := session.Load(b.Name, session.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := ui.NewFromSession(ui.Options{Target: b.Name}, themes.Dark(), sess)
		if _, err := m.StartTour(ui.TourOptions{}); err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		for i, want := range stops {
			if want.Error != "" {
				t.Errorf("%s stop %d does not resolve: %s", b.Name, i+1, want.Error)
				continue
			}
			if _, err := m.GoToTourStop(i); err != nil {
				t.Fatal(err)
			}
			arch, addr, ok := m.CursorAddr()
			got := fmt.Sprintf("%s %#x", arch, addr)
			if !ok || got != want.Arch+" "+want.Address {
				t.Errorf("%s stop %d (%s): the UI shows %s, show --tour resolves %s %s", b.Name, i+1, want.Where, got, want.Arch, want.Address)
			}
			if s := m.Render(); strings.Contains(s, want.Where+":") {
				t.Errorf("%s stop %d: the caption reports an error:\n%s", b.Name, i+1, s)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no tour stop checked")
	}
}

func TestRecordAndExportErrors(t *testing.T) {
	dir := t.TempDir()
	// Every built-in has a tour: selftest-tailcall1 without its [[tour]]
	// tables has none.
	src, err := scenarios.Show("selftest-tailcall1")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(src), "\n[[tour]]")
	if i < 0 {
		t.Fatal("selftest-tailcall1 has no [[tour]] to drop")
	}
	plain := dir + "/untoured.scn"
	writeFile(t, plain, string(src[:i+1]))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "bpf2bpf-tailcall"}, "record: -o FILE.cast is required"},
		{[]string{"record", "bpf2bpf-tailcall", "-o", dir + "/a.cast", "--size", "10x10"}, `record: --size "10x10": want at least 60x15`},
		{[]string{"record", "bpf2bpf-tailcall", "-o", dir + "/a.cast", "--size", "big"}, `record: --size "big": want WIDTHxHEIGHT`},
		{[]string{"record", "bpf2bpf-tailcall", "-o", dir + "/a.cast", "--speed", "0"}, "record: --speed 0"},
		{[]string{"record", "bpf2bpf-tailcall", "-o", dir + "/a.cast", "--theme", "pink"}, `record: --theme: unknown theme "pink"`},
		{[]string{"record", plain, "-o", dir + "/a.cast"}, plain + ": no guided tour to record"},
		{[]string{"record", "nope", "-o", dir + "/a.cast"}, "nope: not a built-in scenario"},
		{[]string{"record", dir + "/missing.walk", "-o", dir + "/a.cast"}, dir + "/missing.walk: no such file"},
		{[]string{"record", "bpf2bpf-tailcall", "-o", dir + "/no/such/dir/a.cast"}, dir + "/no/such/dir/a.cast: no such file or directory"},
		{[]string{"tour", plain}, plain + ": no guided tour (every built-in scenario has one"},
		{[]string{"tour", "bpf2bpf-tailcall"}, "tour: standard output is not a terminal"},
		{[]string{"open", plain, "--autoplay"}, plain + ": no guided tour"},
		{[]string{"export", "bpf2bpf-tailcall"}, "export: give --html or --format"},
		{[]string{"export", "bpf2bpf-tailcall", "--html"}, "export: --html needs -o FILE.html"},
		{[]string{"export", "bpf2bpf-tailcall", "--format", "pdf"}, `export: --format must be html, ansi or text, not "pdf"`},
		{[]string{"export", "bpf2bpf-tailcall", "--html", "--format", "text"}, "export: --html and --format text disagree"},
		{[]string{"export", "bpf2bpf-tailcall", "--format", "text", "--arch", "mips"}, "export: --arch"},
	} {
		var out, errb strings.Builder
		st := Main(c.args, Env{Stdout: &out, Stderr: &errb})
		msg := errb.String()
		if st != 1 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("jitscope %s: status %d, stderr %q, want one line with %q", strings.Join(c.args, " "), st, msg, c.want)
		}
	}
}

// -o never replaces a file without --force, and with it replaces it whole.
func TestRecordNoClobber(t *testing.T) {
	path := t.TempDir() + "/t.cast"
	run := func(args ...string) (int, string) {
		var out, errb strings.Builder
		st := Main(args, Env{Stdout: &out, Stderr: &errb})
		return st, errb.String()
	}
	if st, e := run("record", "bpf2bpf-tailcall", "-o", path, "--timestamp", "1", "--speed", "4"); st != 0 {
		t.Fatalf("record: %d %s", st, e)
	}
	first := readFile(t, path)
	if !strings.HasPrefix(first, `{"version":2,"width":120,"height":36,"timestamp":1,`) {
		t.Errorf("header: %.100s", first)
	}
	p0 := path + ".0"
	if st, e := run("record", "bpf2bpf-tailcall", "-o", p0, "--timestamp", "0", "--speed", "4"); st != 0 || !strings.Contains(readFile(t, p0), `"timestamp":0,`) {
		t.Errorf("--timestamp 0: status %d %s, header %.100s", st, e, readFile(t, p0))
	}
	writeFile(t, path, "mine")
	if st, e := run("record", "bpf2bpf-tailcall", "-o", path); st != 1 || !strings.Contains(e, "exists (use --force to overwrite it)") {
		t.Errorf("record over a file: status %d, %q", st, e)
	}
	if got := readFile(t, path); got != "mine" {
		t.Errorf("the file was changed without --force: %q", got)
	}
	if st, e := run("record", "bpf2bpf-tailcall", "-o", path, "--timestamp", "1", "--speed", "4", "--force"); st != 0 {
		t.Fatalf("record --force: %d %s", st, e)
	}
	if got := readFile(t, path); got != first {
		t.Errorf("--force did not write the same recording")
	}
	if st, e := run("export", "bpf2bpf-tailcall", "--html", "-o", path); st != 1 || !strings.Contains(e, "exists") {
		t.Errorf("export over a file: status %d, %q", st, e)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// export --format text is dump's text; for a kernel capture, of the
// capture's architecture; --html of a capture shows that one pane.
func TestExportText(t *testing.T) {
	run := func(args ...string) string {
		var out, errb strings.Builder
		if st := Main(args, Env{Stdout: &out, Stderr: &errb}); st != 0 {
			t.Fatalf("jitscope %s: %s", strings.Join(args, " "), errb.String())
		}
		return out.String()
	}
	const capture = "../testdata/captures/x86_64-6.18/bpf2bpf_tailcall/entry"
	for _, c := range [][2][]string{
		{{"export", "bpf2bpf-tailcall", "--format", "text"}, {"dump", "bpf2bpf-tailcall", "--arch", "arm64"}},
		{{"export", "bpf2bpf-tailcall", "--format", "text", "--arch", "x86_64"}, {"dump", "bpf2bpf-tailcall", "--arch", "x86_64"}},
		{{"export", capture, "--format", "text"}, {"dump", capture, "--arch", "x86_64"}},
	} {
		if got, want := run(c[0]...), run(c[1]...); got != want || want == "" {
			t.Errorf("jitscope %s differs from jitscope %s", strings.Join(c[0], " "), strings.Join(c[1], " "))
		}
	}
	page := run("export", capture, "--html", "-o", "-")
	if strings.Count(page, `<section class="pane"`) != 1 || !strings.Contains(page, `id="x86_64"`) {
		t.Error("the HTML export of an x86-64 capture is not one x86_64 pane")
	}
}
