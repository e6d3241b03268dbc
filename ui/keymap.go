// SPDX-License-Identifier: GPL-2.0-only

package ui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding; the help overlay is generated from it.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	PrevFunc, NextFunc                      key.Binding
	Pane, Zoom, Layout                      key.Binding
	Follow, Back                            key.Binding
	Search, Next, Prev, Goto                key.Binding
	Bytes, Syntax, Profile, OtherProfile    key.Binding
	Scenario, Theme                         key.Binding
	NextDiff, PrevDiff, Source, Verifier    key.Binding
	Help, Quit                              key.Binding

	// Stepping through the run, gdb SingleKey style; the upper case runs
	// backwards.
	Step, StepBack, Over, OverBack key.Binding
	NextTCC, PrevTCC               key.Binding
	NextTail, PrevTail             key.Binding
	NextCall, PrevCall             key.Binding
	Restart, Lock, State           key.Binding

	// Guided tour and the run's input.
	TourNext, TourPrev, TourClose, Packet key.Binding
	// Tour playback (jitscope tour, open --autoplay): these keys act on
	// the tour while its player runs, before the bindings above.
	TourPlay, TourStops, TourSpeed key.Binding
}

// DefaultKeyMap follows common TUI habits: arrows and hjkl, PgUp/PgDn,
// g/G, / n N, ? and q.
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return &KeyMap{
		Up:           b([]string{"k", "up"}, "k/↑", "up"),
		Down:         b([]string{"j", "down"}, "j/↓", "down"),
		PageUp:       b([]string{"pgup", "ctrl+u", "ctrl+b"}, "PgUp", "page up"),
		PageDown:     b([]string{"pgdown", "ctrl+d", "ctrl+f"}, "PgDn", "page down"),
		Top:          b([]string{"g", "home"}, "g", "top"),
		Bottom:       b([]string{"G", "end"}, "G", "bottom"),
		PrevFunc:     b([]string{"h", "left"}, "h/←", "previous function"),
		NextFunc:     b([]string{"l", "right"}, "l/→", "next function"),
		Pane:         b([]string{"tab", "shift+tab"}, "tab", "switch pane"),
		Zoom:         b([]string{"z"}, "z", "single listing / side by side"),
		Layout:       b([]string{"a"}, "a", "architecture layout"),
		Follow:       b([]string{"enter", "space"}, "enter", "follow arrow"),
		Back:         b([]string{"backspace", "-"}, "⌫/-", "back"),
		Search:       b([]string{"/"}, "/", "search"),
		Next:         b([]string{"n"}, "n", "next match"),
		Prev:         b([]string{"N"}, "N", "previous match"),
		Goto:         b([]string{":"}, ":", "go to address or function"),
		Bytes:        b([]string{"b"}, "b", "opcode bytes"),
		Syntax:       b([]string{"i"}, "i", "x86 AT&T / Intel"),
		Profile:      b([]string{"p"}, "p", "profile (this pane)"),
		OtherProfile: b([]string{"P"}, "P", "profile (other pane)"),
		Scenario:     b([]string{"f"}, "f", "scenario (file)"),
		Theme:        b([]string{"T"}, "T", "theme"),
		NextDiff:     b([]string{"d"}, "d/D", "next/prev change (diff)"),
		PrevDiff:     b([]string{"D"}, "D", "previous changed line"),
		Source:       b([]string{"u"}, "u", "C source lines"),
		Verifier:     b([]string{"v"}, "v", "verifier: BPF as written"),
		Help:         b([]string{"?"}, "?", "help"),
		Quit:         b([]string{"q", "ctrl+c"}, "q", "quit"),

		Step:     b([]string{"s"}, "s", "step one instruction"),
		StepBack: b([]string{"S"}, "S", "step back one instruction"),
		Over:     b([]string{"o"}, "o", "step over a BPF instruction"),
		OverBack: b([]string{"O"}, "O", "back over a BPF instruction"),
		NextTCC:  b([]string{"c"}, "c/C", "run to next/prev TCC change"),
		PrevTCC:  b([]string{"C"}, "C", "back to previous TCC change"),
		NextTail: b([]string{"x"}, "x/X", "run to next/prev tail call"),
		PrevTail: b([]string{"X"}, "X", "back to previous tail call"),
		NextCall: b([]string{"e"}, "e/E", "run to next/prev call or return"),
		PrevCall: b([]string{"E"}, "E", "back to previous call or return"),
		Restart:  b([]string{"R"}, "R", "restart the run"),
		Lock:     b([]string{"L"}, "L", "lock both panes' steps"),
		State:    b([]string{"r"}, "r", "registers and run state"),

		TourNext:  b([]string{"t"}, "t", "next tour stop"),
		TourPrev:  b([]string{"ctrl+t"}, "ctrl+t", "previous tour stop"),
		TourClose: b([]string{"esc"}, "esc", "close the tour"),
		Packet:    b([]string{"w"}, "w", "packet / context of the run"),
		// Matched by the player itself (autoplay.go); here for the help.
		TourPlay:  b([]string{"space"}, "space", "tour playing: pause/play"),
		TourStops: b([]string{"left", "right"}, "←/→", "tour playing: prev/next stop"),
		TourSpeed: b([]string{"+", "=", "-"}, "+/-", "tour playing: speed"),
	}
}

// ShortHelp is the status line's reminder.
func (k *KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, k, desc string) key.Binding {
		b.SetHelp(k, desc)
		return b
	}
	return []key.Binding{k.Down, k.Pane, k.Follow, short(k.Step, "s/S", "step"), short(k.Over, "o/O", "step over"),
		short(k.NextTail, "x", "next tail call"), short(k.State, "r", "registers"), short(k.TourNext, "t", "tour"),
		short(k.Search, "/", "search"), short(k.Profile, "p", "profile"), short(k.Layout, "a", "layout"), k.Help, k.Quit}
}

// FullHelp is the help overlay, in columns.
func (k *KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.PrevFunc, k.NextFunc},
		{k.Follow, k.Back, k.Search, k.Next, k.Prev, k.Goto},
		{k.Pane, k.Zoom, k.Layout, k.Profile, k.OtherProfile, k.Scenario},
		{k.Bytes, k.Syntax, k.Source, k.Verifier, k.NextDiff, k.Theme, k.Help, k.Quit},
		{k.Step, k.StepBack, k.Over, k.OverBack, k.NextTCC, k.NextTail, k.NextCall, k.Restart, k.Lock, k.State},
		{k.TourNext, k.TourPrev, k.TourClose, k.TourPlay, k.TourStops, k.TourSpeed, k.Packet},
	}
}
