// SPDX-License-Identifier: GPL-2.0-only

package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"

	"github.com/jitscope/jitscope/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden screens")

// fixed are the options of the golden recordings.
var fixed = Options{Width: 120, Height: 36, Timestamp: 1700000000}

// toured lists the built-in scenarios with a guided tour.
func toured(t testing.TB) []string {
	var out []string
	for _, b := range scenarios.Builtins() {
		sc, err := scenarios.LoadScenario(b.Name)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		if len(sc.Tour) > 0 {
			out = append(out, b.Name)
		}
	}
	if len(out) == 0 {
		t.Fatal("no built-in scenario has a tour")
	}
	return out
}

type event struct {
	t    float64
	data string
}

// parseCast checks f is asciicast v2 and returns its header and events.
func parseCast(t *testing.T, f []byte) (map[string]any, []event) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(f))
	sc.Buffer(nil, 1<<24)
	if !sc.Scan() {
		t.Fatal("empty file")
	}
	var h map[string]any
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		t.Fatalf("header: %v", err)
	}
	want := map[string]any{"version": float64(2), "width": float64(fixed.Width), "height": float64(fixed.Height), "timestamp": float64(fixed.Timestamp)}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %s = %v, want %v", k, h[k], v)
		}
	}
	if s, _ := h["title"].(string); s == "" {
		t.Errorf("header has no title")
	}
	if env, _ := h["env"].(map[string]any); env["TERM"] == nil {
		t.Errorf("header env has no TERM: %v", h["env"])
	}
	var evs []event
	prev := -1.0
	n := 1
	for sc.Scan() {
		n++
		var raw []any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if len(raw) != 3 {
			t.Fatalf("line %d: %d fields, want 3", n, len(raw))
		}
		tm, ok1 := raw[0].(float64)
		code, ok2 := raw[1].(string)
		data, ok3 := raw[2].(string)
		if !ok1 || !ok2 || !ok3 || code != "o" {
			t.Fatalf("line %d: not [time, \"o\", data]: %s", n, sc.Bytes())
		}
		if tm < prev {
			t.Fatalf("line %d: time %f before %f", n, tm, prev)
		}
		if idle := h["idle_time_limit"].(float64); prev >= 0 && tm-prev > idle+1e-6 {
			t.Fatalf("line %d: gap %f over the idle limit %f", n, tm-prev, idle)
		}
		prev = tm
		evs = append(evs, event{tm, data})
	}
	if len(evs) < 2 {
		t.Fatalf("%d events", len(evs))
	}
	return h, evs
}

// replay plays the events through a terminal emulator and returns the
// final screen's text.
func replay(evs []event) string {
	em := vt.NewEmulator(fixed.Width, fixed.Height)
	// The emulator answers terminal queries (a live program's mode and
	// colour requests) on its input pipe: drain it, or Write blocks.
	go io.Copy(io.Discard, em)
	defer em.Close()
	for _, e := range evs {
		em.WriteString(e.data)
	}
	lines := strings.Split(em.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./record -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("final screen differs from %s (go test ./record -update rewrites it):\n%s", path, diffLines(string(want), got))
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, a, c)
		}
	}
	return b.String()
}

func recordTour(t testing.TB, name string) []byte {
	var buf bytes.Buffer
	if err := Tour(&buf, name, fixed); err != nil {
		t.Fatalf("record %s: %v", name, err)
	}
	return buf.Bytes()
}

// TestTours records every built-in tour: valid asciicast v2, the final
// screen replayed by a terminal emulator as its golden, and the same bytes
// twice.
func TestTours(t *testing.T) {
	for _, name := range toured(t) {
		t.Run(name, func(t *testing.T) {
			a := recordTour(t, name)
			_, evs := parseCast(t, a)
			golden(t, name+".screen", replay(evs))
			if b := recordTour(t, name); !bytes.Equal(a, b) {
				t.Errorf("two recordings of %s differ", name)
			}
		})
	}
}

func BenchmarkRecordSeed000(b *testing.B) {
	for b.Loop() {
		var buf bytes.Buffer
		if err := Tour(&buf, "bpf2bpf-tailcall", fixed); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = time.Second
