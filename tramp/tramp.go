// SPDX-License-Identifier: GPL-2.0-only

// Package tramp puts a traced function, its calling convention and the
// trampoline JITs side by side: where the ABI passes each argument, where
// each version of the JIT reads it for the BPF programs (and passes it on
// to the original function), the frame of one version and its listing.
// The CLI (jitscope dump --trampoline) and the TUI both print a Report.
package tramp

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // register the trampoline JITs
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// Options describe the trampoline to build.
type Options struct {
	Func    *abi.Func
	Arch    kernel.Arch
	Version string // trampoline JIT version (a profile name); "" for the newest
	Fentry  int
	Fexit   int
	FmodRet int
	// Flags overrides the flags the kernel would pick (DefaultTrampFlags);
	// zero keeps them.
	Flags jit.TrampFlags
	IPArg bool
	Addrs *jit.TrampAddrs // nil: DefaultAddrs(Arch)
	// Config overrides the kernel configuration (see jit.TrampRequest).
	Config  map[string]string
	Cookies []uint64
}

// DefaultAddrs are example kernel addresses for a trampoline and what it
// calls: a trampoline and a program in the BPF text area, the
// trampoline helpers in kernel text, struct bpf_prog and bpf_tramp_image
// in the kernel's heap. On arm64 the kernel helpers are within 128 MiB of
// the trampoline, so 6.12+ calls them with bl.
func DefaultAddrs(a kernel.Arch, progs int) jit.TrampAddrs {
	var ad jit.TrampAddrs
	switch a {
	case kernel.ARM64:
		ad = jit.TrampAddrs{
			Image: 0xffff80007a5e1000, Func: 0xffff8000804e2a10, Im: 0xffff000004c1a800,
			Enter: 0xffff800080318f40, Exit: 0xffff800080319020,
			TrampEnt: 0xffff8000803194a0, TrampExit: 0xffff800080319520,
		}
		for i := 0; i < progs; i++ {
			ad.Progs = append(ad.Progs, 0xffff800083f2d000+uint64(i)*0x1000)
			ad.ProgFuncs = append(ad.ProgFuncs, 0xffff80007a5d3000+uint64(i)*0x800)
		}
	case kernel.X86_64:
		// Example addresses in the kernel's layout (module area, text,
		// direct map, vmalloc); the return thunk is the x86_64-6.18
		// capture's srso_alias_return_thunk, which the v6.18 profile's
		// configuration returns through.
		ad = jit.TrampAddrs{
			Image: 0xffffffffc0a4e000, Func: 0xffffffff81a2b3c0, Im: 0xffff888104c1a800,
			Enter: 0xffffffff8134e1f0, Exit: 0xffffffff8134e2d0,
			TrampEnt: 0xffffffff8134e6a0, TrampExit: 0xffffffff8134e6e0,
			ReturnThunk: 0xffffffff8110410b,
		}
		for i := 0; i < progs; i++ {
			ad.Progs = append(ad.Progs, 0xffffc90000b61000+uint64(i)*0x1000)
			ad.ProgFuncs = append(ad.ProgFuncs, 0xffffffffc0a52000+uint64(i)*0x800)
		}
	}
	return ad
}

// Conv is the calling convention of an architecture.
func Conv(a kernel.Arch) abi.Conv {
	if a == kernel.X86_64 {
		return abi.SysV
	}
	return abi.AAPCS64
}

// Read is where one version reads one part (8-byte slot) of an argument.
type Read struct {
	Slot   int
	Source jit.SlotSource
	Want   abi.Loc
	OK     bool
}

// ArgCheck is one version's handling of one argument.
type ArgCheck struct {
	Reads []Read
	OK    bool
	// Orig is, with CALL_ORIG, where the original function finds the
	// argument when the trampoline calls it (stack arguments only).
	Orig   []jit.SlotSource
	OrigOK bool
}

// Text is the short form of a check for a table cell.
func (a ArgCheck) Text() string {
	var s []string
	for _, r := range a.Reads {
		s = append(s, r.Source.String())
	}
	t := strings.Join(s, ",")
	if !a.OK {
		t += " ✗"
	}
	return t
}

// Column is one trampoline JIT version.
type Column struct {
	Version *jit.TrampVersion
	Tramp   *jit.Trampoline // nil when refused
	Err     error
	Args    []ArgCheck
}

// Report is everything the views show.
type Report struct {
	Func     *abi.Func
	Model    *abi.FuncModel
	ModelErr error
	Call     *abi.Call
	Slots    []int // first ctx slot of each argument (the verifier's view)
	Flags    jit.TrampFlags
	Columns  []*Column
	Selected *Column
	Listing  *disasm.Func
}

// Build makes the report for o.
func Build(o Options) (*Report, error) {
	if o.Func == nil {
		return nil, fmt.Errorf("no function")
	}
	versions := jit.TrampVersions(o.Arch)
	if len(versions) == 0 {
		return nil, fmt.Errorf("no trampoline JIT for %s", o.Arch)
	}
	call, err := abi.Place(o.Func, Conv(o.Arch))
	if err != nil {
		return nil, err
	}
	r := &Report{Func: o.Func, Call: call}
	r.Model, r.ModelErr = o.Func.Model()
	slot := 0
	for _, a := range o.Func.Args {
		r.Slots = append(r.Slots, slot)
		slot += a.Type.Slots()
	}
	if o.Fentry+o.Fexit+o.FmodRet == 0 {
		o.Fentry = 1
	}
	flags := o.Flags
	if flags == 0 {
		flags = jit.DefaultTrampFlags(o.Fexit, o.FmodRet, o.IPArg)
	} else if o.IPArg {
		flags |= jit.TrampIPArg
	}
	r.Flags = flags
	addrs := DefaultAddrs(o.Arch, o.Fentry+o.Fexit+o.FmodRet)
	if o.Addrs != nil {
		addrs = *o.Addrs
	}
	req := &jit.TrampRequest{Func: o.Func, Fentry: o.Fentry, Fexit: o.Fexit, FmodRt: o.FmodRet, Flags: flags, Addrs: addrs, Config: o.Config, Cookies: o.Cookies}
	want := o.Version
	if want == "" {
		want = versions[len(versions)-1].Name
	}
	if _, err := jit.LookupTrampVersion(o.Arch, want); err != nil {
		return nil, err
	}
	for _, v := range versions {
		col := &Column{Version: v}
		if r.ModelErr != nil {
			col.Err = r.ModelErr
		} else {
			col.Tramp, col.Err = jit.BuildTrampoline(req, v)
		}
		if col.Tramp != nil {
			r.check(col)
		}
		r.Columns = append(r.Columns, col)
		if v.Name == want {
			r.Selected = col
		}
	}
	if t := r.Selected.Tramp; t != nil {
		lf, err := disasm.ListFunc(o.Arch, t.Image)
		if err != nil {
			return nil, fmt.Errorf("%s: listing: %w", t.Image.Name, err)
		}
		r.Listing = lf
	}
	return r, nil
}

// check compares where column's trampoline reads each argument with the
// ABI placement.
func (r *Report) check(col *Column) {
	t := col.Tramp
	callOrig := t.Request.Flags&jit.TrampCallOrig != 0
	for i, pl := range r.Call.Args {
		ac := ArgCheck{OK: true, OrigOK: true}
		for j, want := range pl.Parts {
			s := r.Slots[i] + j
			src := jit.SlotSource{Slot: s, None: true}
			if s < len(t.Ctx) {
				src = t.Ctx[s]
			} else {
				src.What = r.frameAt(t, t.CtxOff+8*s)
			}
			// A padding-only part (SysV NO_CLASS) is passed nowhere:
			// whatever the program reads there is not data.
			ok := want.Pad || !src.None && src.Reg == want.Reg && (want.Reg != "" || src.Stack == want.Stack)
			ac.Reads = append(ac.Reads, Read{Slot: s, Source: src, Want: want, OK: ok})
			if !ok {
				ac.OK = false
			}
			if callOrig && want.Reg == "" && !want.Pad {
				k := want.Stack / 8
				o := jit.SlotSource{Slot: k, None: true, What: "not written"}
				if k < len(t.OrigStack) {
					o = t.OrigStack[k]
				}
				ac.Orig = append(ac.Orig, o)
				if o.None || o.Reg != "" || o.Stack != want.Stack {
					ac.OrigOK = false
				}
			}
		}
		col.Args = append(col.Args, ac)
	}
}

// frameAt names what the frame holds at offset off (from t.Base).
func (r *Report) frameAt(t *jit.Trampoline, off int) string {
	for _, f := range t.Frame {
		if f.Size > 0 && off >= f.Off && off < f.Off+f.Size {
			name := f.Note
			if f.Name != "" {
				name = f.Name + ": " + f.Note
			}
			return fmt.Sprintf("%s%+d (%s)", t.Base, off, name)
		}
	}
	return fmt.Sprintf("%s%+d", t.Base, off)
}
