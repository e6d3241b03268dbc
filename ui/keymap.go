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
	Help, Quit                              key.Binding
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
		Scenario:     b([]string{"s"}, "s", "scenario"),
		Theme:        b([]string{"T"}, "T", "theme"),
		Help:         b([]string{"?"}, "?", "help"),
		Quit:         b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp is the status line's reminder.
func (k *KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Pane, k.Follow, k.Search, k.Profile, k.Layout, k.Help, k.Quit}
}

// FullHelp is the help overlay, in columns.
func (k *KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.PrevFunc, k.NextFunc},
		{k.Follow, k.Back, k.Search, k.Next, k.Prev, k.Goto},
		{k.Pane, k.Zoom, k.Layout, k.Profile, k.OtherProfile, k.Scenario},
		{k.Bytes, k.Syntax, k.Theme, k.Help, k.Quit},
	}
}
