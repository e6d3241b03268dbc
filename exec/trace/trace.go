// Package trace holds what a run records: events in the order they happen
// (calls, returns, tail calls and their misses, tail call counter changes,
// helper calls, text pokes) and the result. The CPU emulators' runs and the
// BPF interpreter produce the same events, so runs can be compared and the
// CLI and UI can show either.
package trace

// Kind names an event; the strings are part of the `jitscope run` JSON
// contract (DESIGN.md).
type Kind string

// Event kinds.
const (
	Call         Kind = "call"           // bpf-to-bpf call: From (caller), To (callee)
	Return       Kind = "return"         // return from a bpf-to-bpf call or out of the program
	TailCall     Kind = "tail_call"      // From program/function, To program, Landing offset, Skipped insns
	TailCallMiss Kind = "tail_call_miss" // Detail: "index", "limit" or "empty"
	TCC          Kind = "tcc"            // Value: the counter after the change; Where: its location
	Helper       Kind = "helper"         // To: helper name; Value: its return value
	Poke         Kind = "poke"           // a text poke: Detail names the site and the state change
	// Setting up a run from user space (step 0, before the first
	// instruction): the kernel's answer to each action that decides what
	// runs, with the rule, the values compared and the -errno.
	Load      Kind = "load"       // a program load the kernel refused
	Attach    Kind = "attach"     // an freplace link: the target's entry patched (or why not)
	MapUpdate Kind = "map_update" // a prog array slot update: allowed, or refused and left empty
	// Freplace: the run went through a replaced function's patched entry
	// into the extension (From: the replaced function, To: the extension).
	Freplace Kind = "freplace"
)

// Event is one thing that happened during a run.
type Event struct {
	Step   int    `json:"step"` // index of the step that caused it
	Kind   Kind   `json:"kind"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Value  *int64 `json:"value,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Landing is the byte offset into the target a tail call enters at, and
	// Skipped the number of prologue instructions it skips.
	Landing int    `json:"landing,omitempty"`
	Skipped int    `json:"skipped,omitempty"`
	Where   string `json:"where,omitempty"` // TCC: "x26", "[x26]", "[rbp-0x4]"...
	Addr    uint64 `json:"-"`
}

// V returns a pointer to v, for Event.Value.
func V(v int64) *int64 { return &v }
