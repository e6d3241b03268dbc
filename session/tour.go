// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// Tour is a scenario's guided tour with every stop placed: where the
// viewer's cursor goes and which step of which run it shows. The TUI walks
// it with its tour keys, `jitscope show NAME --tour` prints it, and
// recorded walkthroughs play it; all three get the same positions from
// here.
type Tour struct {
	Target string
	Stops  []TourStop
}

// TourStop is one resolved stop.
type TourStop struct {
	N        int    // 1-based
	Where    string // file:line of the stop's [[tour]] table
	Position string // how the stop is placed: function, address, step, event
	// Arch and Profile: the listing the stop shows (Profile resolved to a
	// name: the target's default when the stop names none).
	Arch    kernel.Arch
	Profile string
	// CompatOnly is set when Profile is a compatibility profile: the note
	// a viewer shows with it.
	CompatOnly string
	// Config is the run (entry, packet) and the prog array slots the
	// listing was compiled with.
	Config RunConfig
	// The cursor: the function ("program/function"), the byte offset
	// into it, the address and the instruction there.
	Function string
	Offset   int
	Address  uint64
	Insn     string
	// Step is the run position (the instruction about to run) for step
	// and event stops, -1 for the others; Event the event the stop names.
	Step  int
	Event *trace.Event
	Panes []string
	Text  string
	// Err says why the stop does not resolve (nothing else is valid
	// then); Where and N say which stop it is.
	Err error
}

// Has reports whether the stop asks for pane (scenarios.TourPanes).
func (s *TourStop) Has(pane string) bool { return slices.Contains(s.Panes, pane) }

// IsStep reports whether the stop is a position in a run.
func (s *TourStop) IsStep() bool { return s.Step >= 0 }

// ResolveTour loads target afresh (its own compilations and runs, so a
// viewer's session is not disturbed) and places every stop of its tour.
// Stops that do not resolve carry Err; the error result is for a target
// that cannot be loaded. A target without a tour has no stops.
func ResolveTour(target string) (*Tour, error) {
	t, err := LoadTarget(target)
	if err != nil {
		return nil, err
	}
	tour := &Tour{Target: target}
	if t.Scenario == nil {
		return tour, nil
	}
	s := &Session{Target: t, ids: NewBPFIDs()}
	listings := map[string]*Listing{}
	for i := range t.Scenario.Tour {
		st := &t.Scenario.Tour[i]
		ts := TourStop{N: i + 1, Where: st.Where(), Position: st.Position(), Arch: st.Arch, Profile: st.Profile,
			Config: RunConfig{Entry: st.Entry, Packet: st.Packet, Slots: slices.Clone(st.Slots)},
			Step:   -1, Panes: slices.Clone(st.Panes), Text: st.Text}
		ts.Err = s.place(&ts, st, listings)
		tour.Stops = append(tour.Stops, ts)
	}
	return tour, nil
}

// place compiles (and runs) what stop st needs and fills ts's position.
func (s *Session) place(ts *TourStop, st *scenarios.Stop, listings map[string]*Listing) error {
	if _, err := s.SetRunConfig(ts.Config); err != nil {
		return err
	}
	key := fmt.Sprintf("%s|%s|%s", st.Arch, st.Profile, strings.Join(st.Slots, ","))
	l := listings[key]
	if l == nil {
		l = s.Compile(st.Arch, st.Profile, SyntaxDefault)
		listings[key] = l
	}
	if l.Err != nil {
		return l.Err
	}
	ts.Profile = l.Profile.Name
	ts.CompatOnly, _ = CompatOnly(l.Profile)
	var pc uint64
	switch ts.Position {
	case "function":
		fi := l.lookupFunc(st.Function)
		if fi < 0 {
			return fmt.Errorf("no function %s in the %s image", st.Function, st.Arch)
		}
		img := l.Funcs[fi].Image
		if st.Offset >= len(img.Code) {
			return fmt.Errorf("offset %#x is past the end of %s (%d bytes)", st.Offset, st.Function, len(img.Code))
		}
		pc = img.Address + uint64(st.Offset)
	case "address":
		pc = st.Address
	default:
		run := s.Run(l)
		if !run.Ran {
			return fmt.Errorf("no run: %w", run.Err)
		}
		if len(run.Steps) == 0 {
			return fmt.Errorf("the run of %s executed nothing", run.Entry)
		}
		step := st.Step
		if st.Event != "" {
			n := 0
			for _, e := range run.Events() {
				if e.Kind != st.Event {
					continue
				}
				if n++; n == st.Nth {
					ev := e
					ts.Event = &ev
					step = ev.Step
					break
				}
			}
			if ts.Event == nil {
				return fmt.Errorf("the run has %d %s event(s), not %d", n, st.Event, st.Nth)
			}
		}
		if step > len(run.Steps) {
			return fmt.Errorf("step %d is past the end of the run (%d steps)", step, len(run.Steps))
		}
		ts.Step = step
		// The cursor is at the instruction about to run: after the last
		// step, where the run stopped (a fault), or the last instruction
		// run when it returned to the kernel.
		pc = run.Step(step).PC
		if l.RowOfAddr(pc) < 0 {
			pc = run.Steps[min(step, len(run.Steps)-1)].PC
		}
	}
	ts.Address = pc
	fi, li := l.lineAt(pc)
	if fi < 0 {
		return fmt.Errorf("%#x is not in any function's image", pc)
	}
	f := l.Funcs[fi]
	if li < 0 {
		return fmt.Errorf("%#x (%s+%#x) is inside an instruction, not at its start", pc, l.funcName(fi), pc-f.Image.Address)
	}
	ts.Function, ts.Offset, ts.Insn = l.funcName(fi), int(pc-f.Image.Address), f.Text(li)
	return nil
}

// funcName is "program/function" of function fi.
func (l *Listing) funcName(fi int) string {
	return l.Programs[l.FuncProg[fi]].Image.Program + "/" + l.Funcs[fi].Image.Name
}

// lookupFunc finds "program/function", or a function name unique among
// the programs (the scenario parser has checked it is); -1 if none.
func (l *Listing) lookupFunc(name string) int {
	for fi := range l.Funcs {
		if l.funcName(fi) == name {
			return fi
		}
	}
	for fi, f := range l.Funcs {
		if f.Image.Name == name {
			return fi
		}
	}
	return -1
}

// lineAt finds the function containing pc and the line starting at pc
// (-1 when pc is inside an instruction).
func (l *Listing) lineAt(pc uint64) (int, int) {
	for fi, f := range l.Funcs {
		img := f.Image
		if pc < img.Address || pc >= img.Address+uint64(len(img.Code)) {
			continue
		}
		return fi, f.LineOfAddr(pc)
	}
	return -1, -1
}
