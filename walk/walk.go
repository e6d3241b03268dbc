// SPDX-License-Identifier: GPL-2.0-only

// Package walk reads walkthrough scripts: what a recorded walkthrough
// does, one action a line, so a walkthrough is written without Go.
//
//	# the bpf2bpf tail call, in under a minute
//	scenario bpf2bpf-tailcall
//	caption Where the tail call count lives on arm64
//	goto 2            # tour stop 2 (its caption shows)
//	wait 4s
//	key x             # run to the next tail call
//	wait 3s
//	key j j j         # keys, 0.4 s apart
//	type /x26         # keys from a text, one a character
//	key enter
//	play              # autoplay the tour from here
//	wait tour         # until it has shown its last stop
//
// Actions:
//
//	scenario NAME|FILE  the target (first, once; a built-in name or a .scn)
//	caption TEXT        show TEXT in the caption bar ("caption" alone: the stop's own)
//	goto N|first|last   show tour stop N (from 1)
//	key K [K...]        press keys: a character, or enter, space, tab, esc,
//	                    backspace, up, down, left, right, pgup, pgdown, home,
//	                    end, ctrl+X, shift+tab
//	type TEXT           press the characters of TEXT
//	wait DURATION|tour  let time pass (1.5s, 800ms), or until autoplay ends
//	play, pause         start or stop the tour's autoplay
//
// Every error names the file and line.
package walk

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is an action's kind.
type Kind string

const (
	Caption Kind = "caption"
	Goto    Kind = "goto"
	Key     Kind = "key"
	Type    Kind = "type"
	Wait    Kind = "wait"
	Play    Kind = "play"
	Pause   Kind = "pause"
)

// Action is one line of a script.
type Action struct {
	Kind Kind
	Line int
	Text string        // Caption: the text; Type: the characters
	Keys []string      // Key: key names as Bubble Tea prints them
	Stop int           // Goto: from 0; LastStop for "last"
	Dur  time.Duration // Wait
	// UntilEnd: wait until autoplay has shown the tour's last stop.
	UntilEnd bool
}

// LastStop is Action.Stop of "goto last".
const LastStop = -1

// Script is a parsed walkthrough.
type Script struct {
	File     string
	Scenario string
	Actions  []Action
}

// MaxWait bounds one wait: a script is a walkthrough, not a screensaver.
const MaxWait = 10 * time.Minute

// Where is "file:line" of action a.
func (s *Script) Where(a *Action) string { return fmt.Sprintf("%s:%d", s.File, a.Line) }

// specialKeys are the named keys a script may press.
var specialKeys = []string{"enter", "space", "tab", "shift+tab", "esc", "backspace", "up", "down", "left", "right",
	"pgup", "pgdown", "home", "end"}

// Parse reads a script.
func Parse(file string, data []byte) (*Script, error) {
	s := &Script{File: file}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, n, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		n++
		raw := sc.Text()
		if !utf8.ValidString(raw) {
			return nil, errf("not UTF-8 text")
		}
		line := strings.TrimSpace(stripComment(raw))
		if line == "" {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if verb != "scenario" && s.Scenario == "" {
			return nil, errf("%s before the scenario line: a script starts with `scenario NAME`", verb)
		}
		a := Action{Kind: Kind(verb), Line: n}
		switch verb {
		case "scenario":
			if s.Scenario != "" {
				return nil, errf("a second scenario line (the first names %s)", s.Scenario)
			}
			if rest == "" || strings.ContainsAny(rest, " \t") {
				return nil, errf("scenario takes one NAME or FILE")
			}
			s.Scenario = rest
			continue
		case "caption":
			a.Text = strings.Join(strings.Fields(rest), " ")
		case "goto":
			switch rest {
			case "first":
				a.Stop = 0
			case "last":
				a.Stop = LastStop
			default:
				i, err := strconv.Atoi(rest)
				if err != nil || i < 1 {
					return nil, errf("goto %q: want a tour stop number from 1, first or last", rest)
				}
				a.Stop = i - 1
			}
		case "key":
			if rest == "" {
				return nil, errf("key needs at least one key (such as s, enter, ctrl+c)")
			}
			for _, k := range strings.Fields(rest) {
				if !ValidKey(k) {
					return nil, errf("key %q: not a key: a single character, or one of %s, or ctrl+LETTER", k, strings.Join(specialKeys, ", "))
				}
				a.Keys = append(a.Keys, k)
			}
		case "type":
			if rest == "" {
				return nil, errf("type needs a text")
			}
			a.Text = rest
		case "wait":
			if rest == "tour" {
				a.UntilEnd = true
				break
			}
			d, err := time.ParseDuration(rest)
			if err != nil || d < 0 {
				return nil, errf("wait %q: want a duration such as 1.5s or 800ms, or `tour`", rest)
			}
			if d > MaxWait {
				return nil, errf("wait %s: more than %s", rest, MaxWait)
			}
			a.Dur = d
		case "play", "pause":
			if rest != "" {
				return nil, errf("%s takes no argument", verb)
			}
		default:
			return nil, errf("unknown action %q (scenario, caption, goto, key, type, wait, play, pause)", verb)
		}
		s.Actions = append(s.Actions, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, n+1, err)
	}
	if s.Scenario == "" {
		return nil, fmt.Errorf("%s:1: no `scenario NAME` line", file)
	}
	return s, nil
}

// stripComment cuts a comment: a line starting with #, or from " # " on
// (so `key #` still presses #).
func stripComment(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "#") {
		return ""
	}
	if i := strings.Index(s, " # "); i >= 0 {
		return s[:i]
	}
	return s
}

// ValidKey reports whether k names a key a script can press.
func ValidKey(k string) bool {
	for _, s := range specialKeys {
		if k == s {
			return true
		}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return len(c) == 1 && c[0] >= 'a' && c[0] <= 'z'
	}
	r, size := utf8.DecodeRuneInString(k)
	return size == len(k) && r > ' ' && r != utf8.RuneError && r != 0x7f
}
