// SPDX-License-Identifier: GPL-2.0-only

package tramp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Mismatch marks a read that disagrees with the ABI.
const Mismatch = "✗"

func progsText(r *Report) string {
	var n []string
	for _, c := range r.Columns {
		if c.Tramp != nil {
			rq := c.Tramp.Request
			if rq.Fentry > 0 {
				n = append(n, fmt.Sprintf("%d fentry", rq.Fentry))
			}
			if rq.FmodRt > 0 {
				n = append(n, fmt.Sprintf("%d fmod_ret", rq.FmodRt))
			}
			if rq.Fexit > 0 {
				n = append(n, fmt.Sprintf("%d fexit", rq.Fexit))
			}
			break
		}
	}
	return strings.Join(n, ", ")
}

func typeFlags(t *abi.Type) string {
	var f []string
	if t.Kind == abi.Struct {
		if t.Union {
			f = append(f, "union")
		} else {
			f = append(f, "struct")
		}
	}
	if t.Packed {
		f = append(f, "packed")
	}
	if t.Unaligned {
		f = append(f, "unaligned")
	}
	if t.AlignAttr > 0 {
		f = append(f, fmt.Sprintf("aligned(%d)", t.AlignAttr))
	}
	return strings.Join(f, ",")
}

// table is a small column-aligned text table.
type table struct{ rows [][]string }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, indent string) {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			n := len([]rune(c))
			if i >= len(width) {
				width = append(width, 0)
			}
			if n > width[i] {
				width[i] = n
			}
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// WriteText prints the report: the function model, the placement table
// with a column per JIT version, the selected version's stack layout and
// its annotated listing.
func WriteText(w io.Writer, r *Report) error {
	arch := kernel.ARM64
	if r.Call.Conv == abi.SysV {
		arch = kernel.X86_64
	}
	fmt.Fprintf(w, "%s\n", r.Func.String())
	fmt.Fprintf(w, "  %s, %s trampolines; programs: %s; flags: %s\n\n", r.Call.Conv, arch, progsText(r), r.Flags)
	WriteModel(w, r)
	fmt.Fprintln(w)
	WritePlacement(w, r)
	fmt.Fprintln(w)
	if r.Selected.Tramp == nil {
		fmt.Fprintf(w, "%s\n", refusalText(r.Selected))
		return nil
	}
	WriteFrame(w, r)
	fmt.Fprintln(w)
	return WriteListing(w, r)
}

// WriteModel prints the function model (btf_func_model and the types).
func WriteModel(w io.Writer, r *Report) {
	if r.ModelErr != nil {
		fmt.Fprintf(w, "Function model: %v\n", r.ModelErr)
	} else {
		fmt.Fprintf(w, "Function model (btf_func_model): nr_args %d, ret_size %d\n", r.Model.NrArgs, r.Model.RetSize)
	}
	t := &table{}
	t.add("arg", "type", "size", "align", "flags", "ctx slots")
	for i, a := range r.Func.Args {
		s := r.Slots[i]
		slots := fmt.Sprintf("%d", s)
		if n := a.Type.Slots(); n > 1 {
			slots = fmt.Sprintf("%d-%d", s, s+n-1)
		}
		size := a.Type.Size
		if a.Type.Kind == abi.Pointer {
			size = 8
		}
		t.add(r.Func.ArgName(i), a.Type.Name, fmt.Sprint(size), fmt.Sprint(a.Type.Align), typeFlags(a.Type), slots)
	}
	t.write(w, "  ")
}

// WritePlacement prints the placement table: the ABI's location of each
// argument and, per JIT version, where it reads it (✗ where they differ),
// then the explanations.
func WritePlacement(w io.Writer, r *Report) {
	fmt.Fprintf(w, "Placement: %s, and where each trampoline JIT reads the argument for the programs\n", r.Call.Conv)
	t := &table{}
	head := []string{"arg", string(r.Call.Conv)}
	for _, c := range r.Columns {
		head = append(head, c.Version.Name)
	}
	t.add(head...)
	for i, pl := range r.Call.Args {
		row := []string{r.Func.ArgName(i), pl.Where()}
		for _, c := range r.Columns {
			switch {
			case c.Tramp == nil:
				row = append(row, refusal(c.Err))
			default:
				row = append(row, c.Args[i].Text())
			}
		}
		t.add(row...)
	}
	t.write(w, "  ")
	var notes []string
	for i, pl := range r.Call.Args {
		if pl.Note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", r.Func.ArgName(i), pl.Note))
		}
	}
	for _, c := range r.Columns {
		if c.Tramp == nil {
			notes = append(notes, refusalText(c))
			continue
		}
		if n := r.nslots(); len(c.Tramp.Ctx) < n {
			notes = append(notes, fmt.Sprintf("%s saves %d ctx slots, the prototype has %d (it counts a 16-byte argument without the struct flag as one slot)", c.Version.Name, len(c.Tramp.Ctx), n))
		}
		for i, ac := range c.Args {
			for _, rd := range ac.Reads {
				if rd.OK {
					continue
				}
				if rd.Source.None {
					notes = append(notes, fmt.Sprintf("%s %s %s: ctx[%d] is never saved: the program reads %s, not the argument at %s", c.Version.Name, r.Func.ArgName(i), Mismatch, rd.Slot, rd.Source.What, rd.Want))
					continue
				}
				notes = append(notes, fmt.Sprintf("%s %s %s: ctx[%d] comes from %s, the argument is at %s", c.Version.Name, r.Func.ArgName(i), Mismatch, rd.Slot, rd.Source, rd.Want))
			}
			if !ac.OrigOK {
				var got []string
				for _, o := range ac.Orig {
					got = append(got, o.String())
				}
				notes = append(notes, fmt.Sprintf("%s %s %s: the original function is called with %s at %s",
					c.Version.Name, r.Func.ArgName(i), Mismatch, strings.Join(got, ","), r.Call.Args[i].Where()))
			}
		}
		for _, wn := range c.Tramp.Warnings {
			notes = append(notes, fmt.Sprintf("%s: %s", c.Version.Name, wn))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

func refusal(err error) string {
	var te *jit.TrampError
	if errors.As(err, &te) {
		return "-" + te.Errno
	}
	var me *abi.ModelError
	if errors.As(err, &me) {
		return "-EINVAL"
	}
	return "error"
}

// WriteFrame draws the selected trampoline's stack layout as the kernel
// comments do, highest address first, offsets filled in: the programs'
// ctx slot by slot with where each comes from and which argument the
// verifier takes it for, the callee-saved registers one by one.
func WriteFrame(w io.Writer, r *Report) {
	t := r.Selected.Tramp
	if t == nil {
		return
	}
	type row struct {
		off  int
		cell string
	}
	var rows []row
	argOf := func(slot int) string {
		for i := len(r.Slots) - 1; i >= 0; i-- {
			if slot >= r.Slots[i] {
				if slot < r.Slots[i]+r.Func.Args[i].Type.Slots() {
					if n := r.Func.Args[i].Type.Slots(); n > 1 {
						return fmt.Sprintf("%s, part %d", r.Func.ArgName(i), slot-r.Slots[i]+1)
					}
					return r.Func.ArgName(i)
				}
				break
			}
		}
		return "beyond the arguments"
	}
	for _, f := range t.Frame {
		name, what := f.Name, f.Note
		switch {
		case f.Size == 0:
			rows = append(rows, row{f.Off, "-------- " + what})
			continue
		case f.Off == t.CtxOff && strings.Contains(what, "ctx"):
			// The ctx slots, each with its source.
			for k := f.Size/8 - 1; k >= 0; k-- {
				src := "(not written)"
				if k < len(t.Ctx) {
					src = "<- " + t.Ctx[k].String()
				}
				cell := fmt.Sprintf("[ ctx[%d] %s: %s ]", k, src, argOf(k))
				if k == 0 {
					cell += "  " + name
				}
				rows = append(rows, row{f.Off + 8*k, cell})
			}
			continue
		case name == "regs_off" && f.Size == 16 && t.Base == "sp":
			rows = append(rows, row{f.Off + 8, "[ x20 ]"}, row{f.Off, "[ x19 ]  regs_off"})
			continue
		case len(t.OrigStack) > 0 && (name == "stk_arg_off" || name == "oargs_off" || name == "arg_stack_off"):
			// The original function's stack arguments, slot by slot.
			for k := f.Size/8 - 1; k >= 0; k-- {
				cell := "[ padding ]"
				if k < len(t.OrigStack) {
					cell = fmt.Sprintf("[ stack arg %d <- %s ]", k+1, t.OrigStack[k])
				}
				if k == 0 {
					cell += "  " + name + " (CALL_ORIG)"
				}
				rows = append(rows, row{f.Off + 8*k, cell})
			}
			continue
		}
		if f.Size > 8 {
			what = fmt.Sprintf("%s [%d bytes]", what, f.Size)
		}
		cell := "[ " + what + " ]"
		if name != "" {
			cell += "  " + name
		}
		rows = append(rows, row{f.Off, cell})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].off > rows[j].off })
	base := strings.ToUpper(t.Base)
	fmt.Fprintf(w, "Stack layout (%s %s), %s after the frame is set up:\n", t.Version.Name, t.Image.Name, base)
	tb := &table{}
	for _, rw := range rows {
		pos := fmt.Sprintf("%s %+d", base, rw.off)
		if t.Base == "sp" {
			pos = fmt.Sprintf("SP + %d", rw.off)
		}
		tb.add(pos, rw.cell)
	}
	tb.write(w, "  ")
	for _, wn := range t.Warnings {
		fmt.Fprintf(w, "  %s %s\n", Mismatch, wn)
	}
}

// WriteListing prints the selected trampoline's code with its regions and
// notes.
func WriteListing(w io.Writer, r *Report) error {
	t := r.Selected.Tramp
	if t == nil || r.Listing == nil {
		return nil
	}
	fmt.Fprintf(w, "%s (%s, %d bytes):\n", t.Image.Name, t.Version.Name, len(t.Image.Code))
	var last jit.RegionKind = "-"
	cols := 0
	for _, l := range r.Listing.Lines {
		if len(l.Bytes) > cols {
			cols = len(l.Bytes)
		}
	}
	if t.Arch != kernel.X86_64 {
		cols = 0
	}
	for i := range r.Listing.Lines {
		l := &r.Listing.Lines[i]
		if l.Region != last {
			fmt.Fprintf(w, "  ; %s\n", regionTitle(l.Region))
			last = l.Region
		}
		line := disasm.InstructionText(t.Arch, l, cols)
		if len(l.Notes) > 0 {
			line += "    // " + strings.Join(l.Notes, "; ")
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

func regionTitle(k jit.RegionKind) string {
	switch k {
	case jit.RegionTrampFrame:
		return "frame set-up"
	case jit.RegionTrampSave:
		return "save args"
	case jit.RegionTrampEnter:
		return "__bpf_tramp_enter"
	case jit.RegionTrampFentry:
		return "call fentry progs"
	case jit.RegionTrampModRet:
		return "call fmod_ret progs"
	case jit.RegionTrampOrig:
		return "call original, save retval"
	case jit.RegionTrampFexit:
		return "call fexit progs"
	case jit.RegionTrampRestore:
		return "restore and return"
	}
	return string(k)
}

// JSON is the report as `dump --trampoline --format json` prints it.
type JSON struct {
	Arch      string         `json:"arch"`
	Profile   string         `json:"profile"`
	Prototype string         `json:"prototype"`
	Conv      string         `json:"convention"`
	Flags     string         `json:"flags"`
	Model     *abi.FuncModel `json:"model,omitempty"`
	ModelErr  string         `json:"model_error,omitempty"`
	Args      []JSONArg      `json:"args"`
	Versions  []JSONVersion  `json:"versions"`
	Frame     []JSONFrame    `json:"frame,omitempty"`
	Function  *JSONFunc      `json:"function,omitempty"`
}

// JSONArg is one argument.
type JSONArg struct {
	Name   string              `json:"name"`
	Type   string              `json:"type"`
	Size   int                 `json:"size"`
	Align  int                 `json:"align"`
	Struct bool                `json:"struct"`
	Packed bool                `json:"packed,omitempty"`
	Slot   int                 `json:"ctx_slot"`
	ABI    []string            `json:"abi"`
	Reads  map[string]JSONRead `json:"reads"`
}

// JSONRead is where one version reads an argument.
type JSONRead struct {
	From []string `json:"from"`
	OK   bool     `json:"ok"`
	Orig []string `json:"orig,omitempty"`
}

// JSONVersion is one trampoline JIT version.
type JSONVersion struct {
	Name     string   `json:"name"`
	Kernel   string   `json:"kernel"`
	Error    string   `json:"error,omitempty"`
	Errno    string   `json:"errno,omitempty"`
	Size     int      `json:"size,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// JSONFrame is one stack slot.
type JSONFrame struct {
	Base string `json:"base"`
	Off  int    `json:"offset"`
	Size int    `json:"size"`
	Name string `json:"name,omitempty"`
	What string `json:"what"`
}

// JSONFunc is the selected trampoline's code, as dump's functions.
type JSONFunc struct {
	Name    string     `json:"name"`
	Address string     `json:"address"`
	Bytes   string     `json:"bytes"`
	Insns   []JSONInsn `json:"insns"`
}

// JSONInsn is one instruction.
type JSONInsn struct {
	Offset int      `json:"offset"`
	Size   int      `json:"size"`
	Text   string   `json:"text"`
	Region string   `json:"region,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// ToJSON converts the report.
func ToJSON(r *Report) *JSON {
	j := &JSON{Arch: string(archOf(r)), Profile: r.Selected.Version.Name, Prototype: r.Func.String(), Conv: string(r.Call.Conv), Flags: r.Flags.String(), Model: r.Model}
	if r.ModelErr != nil {
		j.ModelErr = r.ModelErr.Error()
	}
	for i, a := range r.Func.Args {
		size := a.Type.Size
		if a.Type.Kind == abi.Pointer {
			size = 8
		}
		ja := JSONArg{Name: r.Func.ArgName(i), Type: a.Type.Name, Size: size, Align: a.Type.Align, Struct: a.Type.Kind == abi.Struct,
			Packed: a.Type.Packed, Slot: r.Slots[i], Reads: map[string]JSONRead{}}
		for _, p := range r.Call.Args[i].Parts {
			ja.ABI = append(ja.ABI, p.String())
		}
		for _, c := range r.Columns {
			if c.Tramp == nil {
				continue
			}
			ac := c.Args[i]
			jr := JSONRead{OK: ac.OK && ac.OrigOK}
			for _, rd := range ac.Reads {
				jr.From = append(jr.From, rd.Source.String())
			}
			for _, o := range ac.Orig {
				jr.Orig = append(jr.Orig, o.String())
			}
			ja.Reads[c.Version.Name] = jr
		}
		j.Args = append(j.Args, ja)
	}
	for _, c := range r.Columns {
		jv := JSONVersion{Name: c.Version.Name, Kernel: c.Version.Kernel}
		if c.Err != nil {
			jv.Error = c.Err.Error()
			jv.Errno = refusal(c.Err)
		}
		if c.Tramp != nil {
			jv.Size = len(c.Tramp.Image.Code)
			jv.Warnings = c.Tramp.Warnings
		}
		j.Versions = append(j.Versions, jv)
	}
	if t := r.Selected.Tramp; t != nil {
		for _, f := range t.Frame {
			j.Frame = append(j.Frame, JSONFrame{Base: t.Base, Off: f.Off, Size: f.Size, Name: f.Name, What: f.Note})
		}
		jf := &JSONFunc{Name: t.Image.Name, Address: fmt.Sprintf("0x%016x", t.Image.Address), Bytes: hex.EncodeToString(t.Image.Code)}
		for _, l := range r.Listing.Lines {
			jf.Insns = append(jf.Insns, JSONInsn{Offset: l.Offset, Size: len(l.Bytes), Text: l.Text, Region: string(l.Region), Notes: l.Notes})
		}
		j.Function = jf
	}
	return j
}

func archOf(r *Report) kernel.Arch {
	if r.Call.Conv == abi.SysV {
		return kernel.X86_64
	}
	return kernel.ARM64
}

// nslots is the number of ctx slots the prototype has (the verifier's view).
func (r *Report) nslots() int {
	n := 0
	for _, a := range r.Func.Args {
		n += a.Type.Slots()
	}
	return n
}

// WriteEmulated runs every accepted version's trampoline around a stub
// function on the emulator, the arguments placed as the ABI says, and
// prints what the first program read for each argument.
func WriteEmulated(w io.Writer, r *Report) {
	vals := ArgValues(r.Func)
	fmt.Fprintf(w, "An emulated call of %s through each trampoline: what the first program read.\n\n", r.Func.Name)
	for _, col := range r.Columns {
		if col.Tramp == nil {
			fmt.Fprintf(w, "%s\n\n", refusalText(col))
			continue
		}
		res, err := Run(col.Tramp, r.Call, vals)
		if err != nil {
			fmt.Fprintf(w, "%s: the run failed: %v\n\n", col.Version.Name, err)
			continue
		}
		fmt.Fprintf(w, "%s (%d instructions, the function returned %#x):\n", col.Version.Name, res.Steps, res.Ret)
		if len(res.Clobbered) > 0 {
			fmt.Fprintf(w, "  %s the caller's callee-saved registers changed: %s\n", Mismatch, strings.Join(res.Clobbered, ", "))
		}
		for i := range r.Func.Args {
			for j, v := range vals[i] {
				s := r.Slots[i] + j
				if r.Call.Args[i].Parts[j].Pad {
					fmt.Fprintf(w, "  %-4s ctx[%2d] padding, passed nowhere       read 0x%016x\n", r.Func.ArgName(i), s, res.Ctx[s])
					continue
				}
				mark := "ok"
				if res.Ctx[s] != v {
					mark = Mismatch
				}
				fmt.Fprintf(w, "  %-4s ctx[%2d] passed 0x%016x  read 0x%016x  %s\n", r.Func.ArgName(i), s, v, res.Ctx[s], mark)
			}
		}
		fmt.Fprintln(w)
	}
}

// refusalText is a refused column's error, named by its version once.
func refusalText(c *Column) string {
	msg := c.Err.Error()
	if strings.HasPrefix(msg, c.Version.Name+":") {
		return msg
	}
	return c.Version.Name + ": " + msg
}
