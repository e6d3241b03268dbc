// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// regValue finds register name's cell on the screen: its change mark and
// value.
func regValue(t *testing.T, plain, name string) (bool, string) {
	t.Helper()
	re := regexp.MustCompile(`(\*| )` + regexp.QuoteMeta(name) + `\s+\S+\s+(0x[0-9a-f]+)`)
	m := re.FindStringSubmatch(plain)
	if m == nil {
		t.Fatalf("no register %s on the screen:\n%s", name, plain)
	}
	return m[1] == "*", m[2]
}

// rowsMarked counts the listing lines of the left pane starting with mark.
func rowsMarked(plain, mark string, right bool) int {
	n := 0
	for _, l := range strings.Split(plain, "\n") {
		if right {
			_, after, ok := strings.Cut(l, "│")
			if !ok {
				continue
			}
			l = after
		}
		if strings.HasPrefix(l, mark) {
			n++
		}
	}
	return n
}

// Stepping to the tail call on arm64 (seed 000, bpf-next-2022-06): x26
// is the counter, 0 after the prologue, 1 after the increment; the tail
// call lands on classifier_0's bti j, past 9 prologue instructions that
// are marked skipped, and the br x10 → bti j edge is drawn taken.
func TestStepToTailCallArm64(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	p := m.focused()
	press(m, "c")
	plain := ansi.Strip(m.Render())
	if _, v := regValue(t, plain, "x26"); v != "0x0" || !strings.Contains(plain, "TCC 0 in x26") || p.pos != 12 {
		t.Errorf("first TCC change (step %d): x26 = %s", p.pos, v)
	}
	press(m, "c")
	plain = ansi.Strip(m.Render())
	if ch, v := regValue(t, plain, "x26"); v != "0x1" || !ch || !strings.Contains(plain, "TCC 1 in x26") {
		t.Errorf("second TCC change (step %d): x26 = %s (changed %v)", p.pos, v, ch)
	}
	if ln := p.l.Line(p.cursor); ln == nil || ln.Text != "mov w10, #0x110" {
		t.Errorf("the cursor does not follow the PC: %+v", ln)
	}
	press(m, "x")
	requireShape(t, m)
	requireScreen(t, m)
	plain = ansi.Strip(m.Render())
	if ln := p.l.Line(p.cursor); ln == nil || ln.Text != "bti j" || p.l.Func(p.cursor).Image.Name != "classifier_0" {
		t.Fatalf("x: cursor on %+v", ln)
	}
	for _, want := range []string{
		"▶tail call landing pad", "×skipped by tail call", "╚═══> bti j", "╔═│══ br x10",
		"▸ step 58 tail call: subprog_tail → classifier_0, skipped 9 prologue instructions",
		"TCC 1 in x26", "stack entry › classifier_0",
		"arm64 step 58/86 · tail call: subprog_tail → classifier_0, skipped 9 prologue instructions",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("the landing screen lacks %q", want)
		}
	}
	if n := rowsMarked(plain, "×", false); n != 9 {
		t.Errorf("%d rows marked skipped, want 9", n)
	}
	// The marks last until the next step.
	press(m, "s")
	plain = ansi.Strip(m.Render())
	if n := rowsMarked(plain, "×", false); n != 0 || strings.Contains(plain, "╚═══>") {
		t.Errorf("after a step: %d skipped rows, taken edge still drawn", n)
	}
}

// On x86-64 v6.18 the counter lives behind a pointer on the stack; the
// tail call skips 4 instructions of classifier_0.
func TestStepToTailCallX86(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "tab", "x")
	requireShape(t, m)
	requireScreen(t, m)
	plain := ansi.Strip(m.Render())
	for _, want := range []string{
		"TCC 1 at [[rbp-0x18]] (rbp-0x18 holds a pointer to it)",
		"▸ step 42 tail call: subprog_tail → classifier_0, skipped 4 prologue instructions",
		"╚═══> movabs",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("the x86 landing screen lacks %q", want)
		}
	}
	if n := rowsMarked(plain, "×", true); n != 4 {
		t.Errorf("%d x86 rows marked skipped, want 4", n)
	}
	if n := rowsMarked(plain, "▶", true); n != 1 {
		t.Errorf("%d x86 rows marked as the PC, want 1", n)
	}
	// Back to the previous TCC change: 0 before the increment.
	press(m, "C")
	if v := m.focused().run.Step(m.focused().pos); !v.TCCKnown || v.TCC != 1 {
		t.Errorf("C: TCC %d at step %d", v.TCC, m.focused().pos)
	}
	press(m, "C")
	if v := m.focused().run.Step(m.focused().pos); v.TCC != 0 {
		t.Errorf("C C: TCC %d at step %d", v.TCC, m.focused().pos)
	}
}

// Every step key moves the position as the session computes it, and
// stepping back restores the registers.
func TestStepKeys(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	p := m.focused()
	r := m.ensureRun(p)
	call, _, _ := r.NextEvent(0, 1, session.KindsCall)
	tail, _, _ := r.NextEvent(0, 1, session.KindsTailCall)
	for _, c := range []struct {
		keys string
		want int
	}{
		{"s", 1}, {"s", 2}, {"S", 1}, {"R", 0},
		{"o", r.Over(0, 1)}, {"o", r.Over(r.Over(0, 1), 1)}, {"O", r.Over(0, 1)}, {"O", 0},
		{"e", call}, {"E", call}, {"x", tail}, {"X", tail}, {"e", r.Len() - 10}, {"R", 0},
		{"c", 12}, {"c", 48}, {"C", 12},
	} {
		press(m, c.keys)
		if p.pos != c.want {
			t.Fatalf("%s: step %d, want %d (%s)", c.keys, p.pos, c.want, m.msg)
		}
	}
	// Keys with nothing to go to say so and stay.
	press(m, "R", "S")
	if p.pos != 0 || m.msg != "at the start of the run" {
		t.Errorf("S at 0: step %d, %q", p.pos, m.msg)
	}
	press(m, "X")
	if p.pos != 0 || !strings.Contains(m.msg, "no tail call before") {
		t.Errorf("X at 0: step %d, %q", p.pos, m.msg)
	}
	for range r.Len() + 3 {
		press(m, "s")
	}
	if p.pos != r.Len() || !strings.Contains(m.msg, "end of the run: returned to the kernel, r0 = 0") {
		t.Errorf("s past the end: step %d, %q", p.pos, m.msg)
	}

	// Stepping back restores the registers: x26 goes 1 -> 0 -> 1.
	press(m, "R", "c", "c")
	at48 := m.Render()
	if _, v := regValue(t, ansi.Strip(at48), "x26"); v != "0x1" {
		t.Fatalf("x26 at step 48 = %s", v)
	}
	press(m, "S")
	plain := ansi.Strip(m.Render())
	if ch, v := regValue(t, plain, "x26"); v != "0x0" || ch {
		t.Errorf("S: x26 = %s (changed %v), want 0x0 unchanged", v, ch)
	}
	press(m, "s")
	if got := m.Render(); got != at48 {
		t.Error("s after S does not give back the same screen")
	}
	// Going far back and forth through checkpoints gives the same state.
	press(m, "R", "c", "c")
	if got := m.Render(); got != at48 {
		t.Error("R c c does not give back the same screen")
	}
}

// L locks the panes: a step in one moves the other to the same BPF
// instruction.
func TestLock(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "L", "x")
	a, x := m.panes[0], m.panes[1]
	if !m.lock || x.run == nil {
		t.Fatal("L did not lock")
	}
	if v := x.run.Step(x.pos); v.Landed == nil || v.Func != "classifier_0" {
		t.Errorf("locked x86 pane at step %d in %s, want its landing in classifier_0", x.pos, v.Func)
	}
	if ln := x.l.Line(x.cursor); ln == nil || x.l.RowOfAddr(x.run.Step(x.pos).PC) != x.cursor {
		t.Error("the x86 cursor does not follow its PC")
	}
	press(m, "R")
	if a.pos != 0 || x.pos != 0 {
		t.Errorf("R locked: %d %d", a.pos, x.pos)
	}
	press(m, "L", "s")
	if m.lock || x.pos != 0 || a.pos != 1 {
		t.Errorf("unlocked: lock %v, %d %d", m.lock, a.pos, x.pos)
	}
}

// r hides and shows the state pane; the one-line summary replaces it.
func TestToggleState(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "x", "r")
	requireShape(t, m)
	plain := ansi.Strip(m.Render())
	if strings.Contains(plain, "x26  tcc") || !strings.Contains(plain, "arm64 run · step 58 of 86") || !strings.Contains(plain, "TCC 1 in x26 · entry › classifier_0 · r: registers") {
		t.Errorf("state pane off:\n%s", plain)
	}
	if m.panes[0].h != 50-2-2-1 {
		t.Errorf("listing rows %d with the state pane off", m.panes[0].h)
	}
	press(m, "r")
	requireShape(t, m)
	if !strings.Contains(ansi.Strip(m.Render()), "x26  tcc") {
		t.Error("r did not bring the registers back")
	}
	// Too short a terminal: the summary line, and r says why.
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
	requireShape(t, m)
	if m.stateShown() {
		t.Error("the state pane shown on 24 rows")
	}
	press(m, "r", "r")
	if !strings.Contains(m.msg, "needs a terminal of") {
		t.Errorf("r on a short terminal: %q", m.msg)
	}
}

// Without colour, changes read from the * mark and the PC from ▶.
func TestStepMono(t *testing.T) {
	m := newTest(t, themes.Mono(), 200, 50)
	press(m, "c", "c")
	plain := ansi.Strip(m.Render())
	if ch, _ := regValue(t, plain, "x26"); !ch {
		t.Error("mono: x26 not marked changed")
	}
	if rowsMarked(plain, "▶", false) != 1 {
		t.Error("mono: no ▶ on the PC")
	}
}

// A pane whose profile refuses the program has no run: the step keys say
// why instead.
func TestStepNoRun(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "p", "g", "enter") // arm64 v5.10 refuses seed 000
	press(m, "s")
	requireShape(t, m)
	if !m.msgErr || !strings.Contains(m.msg, "no run") {
		t.Errorf("s without a run: %q", m.msg)
	}
	if !strings.Contains(ansi.Strip(m.Render()), "run: none") {
		t.Error("the state block does not say there is no run")
	}
}
