// SPDX-License-Identifier: GPL-2.0-only

package jit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/kernel"
)

// TrampFlags are the kernel's BPF_TRAMP_F_* flags (include/linux/bpf.h).
type TrampFlags uint32

// Trampoline flags, with the kernel's values.
const (
	TrampRestoreRegs  TrampFlags = 1 << 0 // BPF_TRAMP_F_RESTORE_REGS
	TrampCallOrig     TrampFlags = 1 << 1 // BPF_TRAMP_F_CALL_ORIG
	TrampSkipFrame    TrampFlags = 1 << 2 // BPF_TRAMP_F_SKIP_FRAME
	TrampIPArg        TrampFlags = 1 << 3 // BPF_TRAMP_F_IP_ARG
	TrampRetFentryRet TrampFlags = 1 << 4 // BPF_TRAMP_F_RET_FENTRY_RET
	// TrampIndirect is BPF_TRAMP_F_INDIRECT (6.7+): a struct_ops
	// trampoline, called through a function pointer (x86: emit_cfi
	// instead of call depth accounting; nothing with neither kCFI nor IBT).
	TrampIndirect TrampFlags = 1 << 8
)

var flagNames = []struct {
	f    TrampFlags
	name string
}{
	{TrampRestoreRegs, "RESTORE_REGS"}, {TrampCallOrig, "CALL_ORIG"}, {TrampSkipFrame, "SKIP_FRAME"},
	{TrampIPArg, "IP_ARG"}, {TrampRetFentryRet, "RET_FENTRY_RET"}, {TrampIndirect, "INDIRECT"},
}

func (f TrampFlags) String() string {
	var s []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			s = append(s, n.name)
		}
	}
	if len(s) == 0 {
		return "0"
	}
	return strings.Join(s, "|")
}

// ParseTrampFlags reads "CALL_ORIG,IP_ARG" (BPF_TRAMP_F_ prefixes allowed).
func ParseTrampFlags(s string) (TrampFlags, error) {
	var f TrampFlags
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
		w = strings.TrimPrefix(strings.ToUpper(w), "BPF_TRAMP_F_")
		ok := false
		for _, n := range flagNames {
			if n.name == w {
				f |= n.f
				ok = true
			}
		}
		if !ok {
			return 0, fmt.Errorf("unknown trampoline flag %q (have RESTORE_REGS, CALL_ORIG, SKIP_FRAME, IP_ARG, RET_FENTRY_RET, INDIRECT)", w)
		}
	}
	return f, nil
}

// DefaultTrampFlags are the flags bpf_trampoline_update (kernel/bpf/
// trampoline.c, 5.17+) gives a trampoline: CALL_ORIG|SKIP_FRAME when an
// fexit or fmod_ret program is attached, else RESTORE_REGS; IP_ARG when a
// program calls bpf_get_func_ip.
func DefaultTrampFlags(fexit, fmodRet int, ipArg bool) TrampFlags {
	f := TrampRestoreRegs
	if fexit > 0 || fmodRet > 0 {
		f = TrampCallOrig | TrampSkipFrame
	}
	if ipArg {
		f |= TrampIPArg
	}
	return f
}

// TrampAddrs are the kernel addresses a trampoline's code depends on.
type TrampAddrs struct {
	Image uint64 // where the trampoline image is
	// ReturnThunk is x86_return_thunk when the kernel returns through one.
	ReturnThunk uint64
	Func        uint64 // the traced function (func_addr)
	Im          uint64 // struct bpf_tramp_image
	Progs       []uint64
	ProgFuncs   []uint64 // bpf_func of each attached program, in Progs order
	Enter       uint64   // __bpf_prog_enter_recur
	Exit        uint64   // __bpf_prog_exit_recur
	TrampEnt    uint64   // __bpf_tramp_enter
	TrampExit   uint64   // __bpf_tramp_exit
}

// TrampRequest is one trampoline to build: the traced function, the
// programs attached to it, the flags.
type TrampRequest struct {
	Func                  *abi.Func
	Fentry, Fexit, FmodRt int // numbers of attached programs of each kind
	Flags                 TrampFlags
	Cookies               []uint64 // per program, optional
	Addrs                 TrampAddrs
	// Config is the kernel's configuration as a placement gives it
	// (x86: "observed:return_thunk" = a name or "none"); nil keeps the
	// profile's defaults.
	Config map[string]string
}

// ProgKinds lists the attached programs in the order of Addrs.Progs:
// fentry, then fmod_ret, then fexit.
func (r *TrampRequest) ProgKinds() []string {
	var k []string
	for i := 0; i < r.Fentry; i++ {
		k = append(k, "fentry")
	}
	for i := 0; i < r.FmodRt; i++ {
		k = append(k, "fmod_ret")
	}
	for i := 0; i < r.Fexit; i++ {
		k = append(k, "fexit")
	}
	return k
}

// SlotSource says where a trampoline copies one 8-byte slot from: the
// argument registers, or the traced function's incoming stack (Stack
// bytes above the stack pointer at the call), or nothing (the slot is
// never written: the program reads whatever the frame holds there).
type SlotSource struct {
	Slot  int
	Reg   string
	Stack int
	None  bool
	What  string // for None: what the frame holds at that slot
}

func (s SlotSource) String() string {
	switch {
	case s.None:
		return "unsaved"
	case s.Reg != "":
		return s.Reg
	}
	return fmt.Sprintf("sp+%d", s.Stack)
}

// FrameSlot is one entry of a trampoline's stack layout diagram.
type FrameSlot struct {
	Off  int // from the stack pointer after the frame is set up (arm64 sp, x86 rbp-relative when Base is "rbp")
	Size int
	Name string
	Note string
}

// Trampoline is one built trampoline.
type Trampoline struct {
	Arch    kernel.Arch
	Version *TrampVersion
	Request *TrampRequest
	Model   *abi.FuncModel
	Image   *FuncImage
	// Base is the register the frame offsets are relative to ("sp", "rbp").
	Base  string
	Frame []FrameSlot
	// Ctx is where each of the BPF program's context slots (args[i]) is
	// copied from; CtxOff is its offset from Base.
	Ctx    []SlotSource
	CtxOff int
	// OrigStack is what the trampoline puts on the stack when it calls the
	// original function (CALL_ORIG): for each 8-byte slot of the callee's
	// incoming stack (sp+8*j), where the value comes from in terms of the
	// trampoline's own caller (a register or its incoming stack).
	OrigStack []SlotSource
	// Warnings are things the code does that break the frame or the ABI
	// beyond a misread argument (stores outside the frame).
	Warnings []string
	// NrArgsSaved is the argument count the trampoline stores for
	// bpf_get_func_arg_cnt.
	NrArgsSaved int
}

// TrampVersion is one kernel version's trampoline JIT.
type TrampVersion struct {
	Name    string
	Arch    kernel.Arch
	Kernel  string
	Summary string
	Sources []string
	// Profile is the BPF JIT profile with the same kernel's encoders and
	// configuration defaults (BTI, call form).
	Profile string
}

// TrampError is a trampoline JIT's refusal, as the kernel returns it from
// arch_prepare_bpf_trampoline.
type TrampError struct {
	Version string
	Errno   string // "ENOTSUPP"
	Code    int    // -524
	Msg     string
}

func (e *TrampError) Error() string {
	return fmt.Sprintf("%s: arch_prepare_bpf_trampoline returns -%s (%d): %s", e.Version, e.Errno, e.Code, e.Msg)
}

// ENOTSUPP is the kernel's -ENOTSUPP (524), what the trampoline JITs
// return for functions they cannot handle.
const ENOTSUPP = 524

// TrampBackend builds trampolines for one architecture.
type TrampBackend interface {
	TrampVersions() []*TrampVersion
	Trampoline(req *TrampRequest, v *TrampVersion) (*Trampoline, error)
}

var trampBackends = map[kernel.Arch]TrampBackend{}

// RegisterTrampolines makes a trampoline JIT available; backends call it
// from init.
func RegisterTrampolines(a kernel.Arch, b TrampBackend) { trampBackends[a] = b }

// TrampVersions lists arch's trampoline JIT versions, oldest first.
func TrampVersions(a kernel.Arch) []*TrampVersion {
	b := trampBackends[a]
	if b == nil {
		return nil
	}
	return b.TrampVersions()
}

// LookupTrampVersion finds a trampoline JIT version by name.
func LookupTrampVersion(a kernel.Arch, name string) (*TrampVersion, error) {
	var names []string
	for _, v := range TrampVersions(a) {
		if v.Name == name {
			return v, nil
		}
		names = append(names, v.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no trampoline JIT for %s", a)
	}
	return nil, fmt.Errorf("no %s trampoline JIT for profile %q (have %s)", a, name, strings.Join(names, ", "))
}

// BuildTrampoline builds req's trampoline with version v, after the
// verifier's btf_distill_func_proto has modelled the function.
func BuildTrampoline(req *TrampRequest, v *TrampVersion) (*Trampoline, error) {
	b := trampBackends[v.Arch]
	if b == nil {
		return nil, fmt.Errorf("no trampoline JIT for %s", v.Arch)
	}
	if _, err := req.Func.Model(); err != nil {
		return nil, err
	}
	if req.Fentry+req.Fexit+req.FmodRt == 0 {
		return nil, fmt.Errorf("%s: no program attached (a trampoline needs fentry, fexit or fmod_ret)", req.Func.Name)
	}
	return b.Trampoline(req, v)
}

// Regions of a trampoline image.
const (
	RegionTrampFrame   RegionKind = "frame"     // frame set-up
	RegionTrampSave    RegionKind = "save-args" // arguments saved for the programs
	RegionTrampFentry  RegionKind = "fentry"
	RegionTrampModRet  RegionKind = "fmod_ret"
	RegionTrampOrig    RegionKind = "call-orig" // restore arguments, call the traced function, save its return value
	RegionTrampFexit   RegionKind = "fexit"
	RegionTrampRestore RegionKind = "restore" // restore registers and return
	RegionTrampEnter   RegionKind = "tramp-enter"
)
