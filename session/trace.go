// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Trace is a recorded run as a stepping view needs it: positions can be
// visited in any order (the run is deterministic, so stepping back is
// reading an earlier position, as pwndbg's contextprev does).
//
// A position is a point between instructions, as a debugger stops: at
// position i, i instructions have executed and the PC is on the next one
// (the instruction of step i). Position 0 is the program's entry, position
// Len the end of the run (returned to the kernel, or stopped on a fault).
// Events carry the position at which they have happened (Event.Step).
type Trace interface {
	// Len is the number of executed instructions.
	Len() int
	// Step describes position i.
	Step(i int) StepView
	// Events lists the run's events in order.
	Events() []trace.Event
	// Regs lists the registers at position i; Changed marks those the
	// last instruction (step i-1, and a helper it called) changed.
	Regs(i int) []RegView
}

// StepView is one position of a run.
type StepView struct {
	Pos  int
	Arch kernel.Arch
	// PC is the next instruction to execute; Done is set at the end of the
	// run, where PC is the kernel's return address or the faulting
	// instruction.
	PC   uint64
	Done bool
	// Func is the function the PC is in ("entry", "subprog_tail") and
	// Offset the PC's offset in it; Func is "" outside the images.
	Func   string
	Offset int
	// BPFIndex is the BPF instruction the PC's machine code was compiled
	// from (-1 in a prologue or epilogue) and BPF its text ("2: call
	// subprog_tail"); Region is the code region ("prologue", "body"...).
	BPFIndex int
	BPF      string
	Region   jit.RegionKind
	// TCC is the tail call counter as the latest tcc event at or before
	// the position saw it, and where it lives ("x26", "[x26]",
	// "[rbp-0x4]"); TCCKnown is false before it exists.
	TCC      int64
	TCCWhere string
	TCCKnown bool
	// Frames is the call stack of BPF functions, outermost first: a call
	// pushes, a return pops, a tail call replaces the top frame.
	Frames []string
	// Recent are the last events at or before the position, oldest first
	// (at most RecentEvents).
	Recent []trace.Event
	// Jumped is set when the last instruction did not fall through to PC;
	// From is that instruction's address (the dynamic edge just taken).
	Jumped bool
	From   uint64
	// Landed is the tail call that landed at this position, if any.
	Landed *trace.Event
}

// RecentEvents bounds StepView.Recent.
const RecentEvents = 8

// RegView is one register: its machine name, the BPF register it holds
// ("r0", "tcc", "r10") or the machine role ("lr", "sp"), its value and
// whether the last step changed it.
type RegView struct {
	Name, BPF string
	// Role is set when BPF names a machine role rather than a BPF register.
	Role    bool
	Value   uint64
	Changed bool
}
