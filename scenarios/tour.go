// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
)

// Stop is one stop of a guided tour: where the viewer goes (a cursor in a
// listing, or a step of a run), which panes it shows, and one paragraph
// that explains what is there. Every field is resolved at parse time: a
// stop that leaves out arch, profile, entry or packet has its
// predecessor's.
type Stop struct {
	File string
	Line int // where the stop's [[tour]] table starts
	Text string
	Arch kernel.Arch
	// Profile names the JIT profile; "" is the target's default for Arch
	// (its placement's profile, else the newest).
	Profile string
	// Entry and Packet choose the run a step or event stop refers to
	// ("" is the scenario's entry program and default packet).
	Entry, Packet string
	// Slots fill or empty prog array slots before the programs are
	// JITed, as `jitscope run --slot MAP[KEY]=PROG` does (PROG empty to
	// empty the slot).
	Slots []string
	// The position, exactly one of: Function (+ Offset bytes into it),
	// Address, Step (a run step index, >= 0), or Event (the Nth event of
	// that kind in the run, counting from 1).
	Function string // "function" or "program/function"
	Offset   int
	Address  uint64
	Step     int // -1 unless the stop is a step
	Event    trace.Kind
	Nth      int
	Panes    []string
}

// Where is the stop's place in its file, "file:line".
func (s *Stop) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Position says how the stop is placed: "function", "address", "step" or
// "event".
func (s *Stop) Position() string {
	switch {
	case s.Function != "":
		return "function"
	case s.Step >= 0:
		return "step"
	case s.Event != "":
		return "event"
	}
	return "address"
}

// NeedsRun reports whether the stop refers to a run of the scenario.
func (s *Stop) NeedsRun() bool { return s.Step >= 0 || s.Event != "" }

// TourPanes are the panes a stop may ask for:
//
//	listing    the machine code of the stop's architecture (the cursor)
//	other      the listing of the other architecture, side by side
//	bpf        the BPF instructions
//	registers  the CPU registers (run stops)
//	stack      the kernel stack (run stops)
//	trace      the run's events
//	maps       maps and prog array slots
//	packet     the packet
//	compat     prog array compatibility per kernel (jitscope show --compat)
var TourPanes = []string{"listing", "other", "bpf", "registers", "stack", "trace", "maps", "packet", "compat"}

// eventKinds are the run events a stop may name (exec/trace).
var eventKinds = []trace.Kind{trace.Call, trace.Return, trace.TailCall, trace.TailCallMiss, trace.TCC, trace.Helper, trace.Poke, trace.Freplace}

// ParseTour reads a sidecar tour file: a TOML document with [[tour]]
// tables only, checked against sc as a [[tour]] in the scenario would be.
func ParseTour(file string, data []byte, sc *Scenario) ([]Stop, error) {
	raw, p, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	top := node{p: p, what: "the top level", m: raw}
	if err := top.allow("tour"); err != nil {
		return nil, err
	}
	if _, ok := raw["tour"]; !ok {
		return nil, p.errAt(1, "no [[tour]] tables")
	}
	return p.tour(top, sc.Set, sc)
}

// tour reads the [[tour]] tables of top.
func (p *parser) tour(top node, s *kernel.Set, sc *Scenario) ([]Stop, error) {
	nodes, err := top.tables("tour")
	if err != nil {
		return nil, err
	}
	prev := Stop{Arch: defaultTourArch(s)}
	var out []Stop
	for i, n := range nodes {
		n.what = fmt.Sprintf("tour stop %d", i+1)
		st, err := p.stop(n, s, sc, prev)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
		prev = st
	}
	return out, nil
}

// defaultTourArch is the architecture a tour starts on: the first one the
// scenario pins addresses for, else arm64.
func defaultTourArch(s *kernel.Set) kernel.Arch {
	var as []kernel.Arch
	for a := range s.Placements {
		as = append(as, a)
	}
	slices.Sort(as)
	if len(as) > 0 {
		return as[0]
	}
	return kernel.ARM64
}

func (p *parser) stop(n node, s *kernel.Set, sc *Scenario, prev Stop) (Stop, error) {
	if err := n.allow("text", "arch", "profile", "entry", "packet", "slots", "function", "offset", "address", "step", "panes"); err != nil {
		return Stop{}, err
	}
	st := Stop{File: p.file, Line: n.line(""), Arch: prev.Arch, Profile: prev.Profile, Entry: prev.Entry, Packet: prev.Packet, Slots: prev.Slots, Step: -1}
	text, ok, err := n.str("text")
	if err != nil {
		return st, err
	}
	text = strings.TrimSpace(text)
	if !ok || text == "" {
		return st, n.errf("", "%s: missing text (one paragraph saying what the stop shows)", n.what)
	}
	if strings.Contains(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		return st, n.errf("text", "%s: text is one paragraph (no blank lines)", n.what)
	}
	st.Text = strings.Join(strings.Fields(text), " ")
	if a, ok, err := n.str("arch"); err != nil {
		return st, err
	} else if ok {
		if st.Arch, err = kernel.ParseArch(a); err != nil {
			return st, n.errf("arch", "%s: %s", n.what, err)
		}
		if st.Arch != prev.Arch {
			// The profile named before was the other architecture's.
			st.Profile = ""
		}
	}
	if v, ok, err := n.str("profile"); err != nil {
		return st, err
	} else if ok {
		st.Profile = v // checked where the profiles live (cli's tour resolution)
	}
	if v, ok, err := n.str("entry"); err != nil {
		return st, err
	} else if ok {
		if s.Program(v) == nil {
			return st, n.errf("entry", "%s: entry %q is not a program of this scenario (programs: %s)", n.what, v, progNames(s))
		}
		st.Entry = v
	}
	if v, ok, err := n.str("packet"); err != nil {
		return st, err
	} else if ok {
		if _, err := sc.Packet(v); err != nil {
			return st, n.errf("packet", "%s: %v", n.what, err)
		}
		st.Packet = v
	}
	if v, ok := n.m["slots"]; ok {
		list, isList := v.([]any)
		if !isList {
			return st, n.errf("slots", "%s: slots is %s, want a list such as [\"jmp_table[0]=target\"]", n.what, typeName(v))
		}
		st.Slots = nil
		for i, e := range list {
			str, _ := e.(string)
			if msg := slotProblem(str, s); msg != "" {
				return st, p.errAt(p.loc.line(append(n.sub("slots"), idx(i))...), "%s: slots[%d] = %v: %s", n.what, i, e, msg)
			}
			st.Slots = append(st.Slots, str)
		}
	}
	var have []string
	for _, k := range []string{"function", "address", "step"} {
		if _, ok := n.m[k]; ok {
			have = append(have, k)
		}
	}
	if _, ok := n.m["offset"]; ok && !slices.Contains(have, "function") {
		return st, n.errf("offset", "%s: offset is counted from a function: give function too", n.what)
	}
	switch len(have) {
	case 0:
		return st, n.errf("", "%s: no position: give function (and offset), address, or step", n.what)
	case 1:
	default:
		return st, n.errf(have[1], "%s: give one position, not both %s and %s", n.what, have[0], have[1])
	}
	switch have[0] {
	case "function":
		f, _, err := n.str("function")
		if err != nil {
			return st, err
		}
		if msg := funcProblem(f, s); msg != "" {
			return st, n.errf("function", "%s: function: %s", n.what, msg)
		}
		st.Function = f
		if _, ok := n.m["offset"]; ok {
			off, err := p.address(n, "offset")
			if err != nil {
				return st, err
			}
			if off > 1<<20 {
				return st, n.errf("offset", "%s: offset %#x is implausibly large", n.what, off)
			}
			st.Offset = int(off)
		}
	case "address":
		a, err := p.address(n, "address")
		if err != nil {
			return st, err
		}
		st.Address = a
	case "step":
		switch v := n.m["step"].(type) {
		case int64:
			if v < 0 {
				return st, n.errf("step", "%s: step %d is negative", n.what, v)
			}
			st.Step = int(v)
		case string:
			kind, nth, ok := strings.Cut(v, "#")
			st.Event, st.Nth = trace.Kind(kind), 1
			if !slices.Contains(eventKinds, st.Event) {
				var ks []string
				for _, k := range eventKinds {
					ks = append(ks, string(k))
				}
				return st, n.errf("step", "%s: step %q: not an event kind (%s), optionally with #N for the Nth", n.what, v, strings.Join(ks, ", "))
			}
			if ok {
				i, err := strconv.Atoi(nth)
				if err != nil || i < 1 {
					return st, n.errf("step", "%s: step %q: #%s is not a count from 1", n.what, v, nth)
				}
				st.Nth = i
			}
		default:
			return st, n.errf("step", "%s: step is %s, want a step index or an event kind such as \"tail_call\"", n.what, typeName(v))
		}
	}
	if v, ok := n.m["panes"]; ok {
		list, isList := v.([]any)
		if !isList {
			return st, n.errf("panes", "%s: panes is %s, want a list such as [\"listing\", \"trace\"]", n.what, typeName(v))
		}
		for i, e := range list {
			name, isStr := e.(string)
			if !isStr || !slices.Contains(TourPanes, name) {
				return st, p.errAt(p.loc.line(append(n.sub("panes"), idx(i))...), "%s: panes[%d] = %v is not a pane (%s)", n.what, i, e, strings.Join(TourPanes, ", "))
			}
			if slices.Contains(st.Panes, name) {
				return st, p.errAt(p.loc.line(append(n.sub("panes"), idx(i))...), "%s: pane %q twice", n.what, name)
			}
			st.Panes = append(st.Panes, name)
		}
	}
	return st, nil
}

var slotRE = regexp.MustCompile(`^([A-Za-z_.][A-Za-z0-9_.]*)\[(\d+)\]=([A-Za-z0-9_.]*)$`)

// slotProblem checks "MAP[KEY]=PROG" (PROG empty: empty the slot).
func slotProblem(v string, s *kernel.Set) string {
	m := slotRE.FindStringSubmatch(v)
	if m == nil {
		return "want MAP[KEY]=PROG (PROG empty to empty the slot)"
	}
	mp := s.Map(m[1])
	if mp == nil || !mp.IsProgArray() {
		return fmt.Sprintf("%s is not a prog array of this scenario", m[1])
	}
	if key, err := strconv.ParseUint(m[2], 10, 32); err != nil || key >= uint64(mp.MaxEntries) {
		return fmt.Sprintf("index %s out of range (max_entries %d)", m[2], mp.MaxEntries)
	}
	if m[3] != "" && s.Program(m[3]) == nil {
		return fmt.Sprintf("no program %q (programs: %s)", m[3], progNames(s))
	}
	return ""
}
