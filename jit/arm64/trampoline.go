// SPDX-License-Identifier: GPL-2.0-only

package arm64

import (
	"fmt"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// The arm64 trampoline JITs (arch/arm64/net/bpf_jit_comp.c,
// prepare_trampoline and its helpers), one per way of handling the traced
// function's arguments.
type trampKind int

const (
	// tramp8: arguments in x0-x7 only (6.5 "bpf, arm64: Support struct
	// arguments in the BPF trampoline" through 6.15): nregs counts a
	// struct's extra registers, more than 8 is -ENOTSUPP.
	tramp8 trampKind = iota
	// trampV2: seed 003, "[PATCH bpf-next v2] arm64, bpf: Add 12-argument
	// support for bpf trampoline" (Puranjay Mohan, July 2024): stack
	// arguments copied as consecutive 8-byte slots from orig_sp_off.
	trampV2
	// tramp616: 6.16 "bpf, arm64: Support up to 12 function arguments"
	// (Xu Kuohai, revived by Alexis Lothoré): calc_arg_aux, structs on the
	// stack refused, stack arguments read from FP + 32 with clear_garbage.
	tramp616
)

var trampVersions = []*jit.TrampVersion{
	{
		Name:    "v6.10",
		Arch:    kernel.ARM64,
		Kernel:  "6.5-6.15",
		Summary: "arguments in x0-x7 only: nregs (a struct counts its registers) > 8 is -ENOTSUPP",
		Sources: []string{
			"arch/arm64/net/bpf_jit_comp.c @ bpf-next 2024-07, as the context and '-' lines of seed 003's diff show it: save_args(ctx, args_off, nregs), restore_args, btf_func_model_nregs, 'if (nregs > 8) return -ENOTSUPP'",
			"the rest of prepare_trampoline as in the 6.16 file (stored copy, search index file id 17771758), which the diff's context agrees with; emit_call is emit_addr_mov_i64 + blr before 6.12",
		},
		Profile: "v6.1",
	},
	{
		Name:    "seed003-v2",
		Arch:    kernel.ARM64,
		Kernel:  "bpf-next 2024-07 + seed 003's v2 patch (not merged)",
		Summary: "12 arguments: stack arguments copied as consecutive 8-byte slots from SP+orig_sp_off; __int128 not counted, alignment ignored",
		Sources: []string{
			"seed 003: [PATCH bpf-next v2] arm64, bpf: Add 12-argument support for bpf trampoline (Puranjay Mohan, 2024-07-05): save_args, restore_stack_args, btf_func_model_nargs, btf_func_model_nreg_args, orig_sp_off = stack_size + 32",
			"Xu Kuohai's review (2024-07-06): e, f, g of 'int func(__int128 a, __int128 b, __int128 c, int64_t d, __int128 e, int64_t f, __int128 g)' are at sp+0, +16, +32",
		},
		Profile: "v6.1",
	},
	{
		Name:    "v6.18",
		Arch:    kernel.ARM64,
		Kernel:  "6.16-6.18",
		Summary: "12 arguments (6.16): calc_arg_aux, structs on the stack refused (-ENOTSUPP), stack slots read from FP+32 with clear_garbage, bl for near calls",
		Sources: []string{
			"9014cf56f13d \"bpf, arm64: Support up to 12 function arguments\" (Xu Kuohai, merged for 6.16 with Alexis Lothoré's selftests) and its follow-up dropping the unused nregs from arch_bpf_trampoline_size",
			"arch/arm64/net/bpf_jit_comp.c @ 6.16 (stored copy, search index file id 17771758): calc_arg_aux, save_args(..., for_call_origin), clear_garbage, restore_args, prepare_trampoline, invoke_bpf_prog, invoke_bpf_mod_ret, emit_call (bl within +-128 MiB)",
			"Alexis Lothoré, \"bpf, arm64: Support up to 12 function arguments\" v3 cover letter (2025-06): attachment refused for structs passed on the stack; __int128 arguments are kept from BPF programs by the verifier (a9b59159d338 \"bpf: Do not allow btf_ctx_access with __int128 types\"), so their stack alignment is not handled",
		},
		Profile: "v6.18",
	},
}

var trampKinds = map[string]trampKind{"v6.10": tramp8, "seed003-v2": trampV2, "v6.18": tramp616}

type trampBackend struct{}

func init() { jit.RegisterTrampolines(kernel.ARM64, trampBackend{}) }

func (trampBackend) TrampVersions() []*jit.TrampVersion { return trampVersions }

// sizeofTrampRunCtx is round_up(sizeof(struct bpf_tramp_run_ctx), 8):
// struct bpf_run_ctx {} (empty), u64 bpf_cookie, struct bpf_run_ctx
// *saved_run_ctx (include/linux/bpf.h, 6.x); bpf_cookie at offset 0.
const (
	sizeofTrampRunCtx = 16
	cookieOff         = 0
)

// tctx is the trampoline JIT's state: the kernel's jit_ctx plus what the
// frame holds.
type tctx struct {
	*ctx
	kind   trampKind
	req    *jit.TrampRequest
	m      *abi.FuncModel
	frame  []jit.FrameSlot
	direct bool // emit_call may use bl (6.12+)
	progI  int
}

// Trampoline models arch_prepare_bpf_trampoline for version v.
func (trampBackend) Trampoline(req *jit.TrampRequest, v *jit.TrampVersion) (*jit.Trampoline, error) {
	kind, ok := trampKinds[v.Name]
	if !ok {
		return nil, fmt.Errorf("no arm64 trampoline JIT %q", v.Name)
	}
	m, err := req.Func.Model()
	if err != nil {
		return nil, err
	}
	prof, err := jit.LookupProfile(kernel.ARM64, v.Profile)
	if err != nil {
		return nil, err
	}
	name := "bpf_trampoline_" + req.Func.Name
	c := &tctx{
		ctx:    &ctx{p: prof, emitting: true, f: &kernel.LoadedFunc{Name: name, Address: req.Addrs.Image}},
		kind:   kind,
		req:    req,
		m:      m,
		direct: prof.DirectCalls,
	}
	t := &jit.Trampoline{Arch: kernel.ARM64, Version: v, Request: req, Model: m, Base: "sp"}
	if err := c.build(t); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, fmt.Errorf("%s: %w", v.Name, c.err)
	}
	code := make([]byte, 4*len(c.code))
	for i, w := range c.code {
		code[4*i], code[4*i+1], code[4*i+2], code[4*i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	t.Image = &jit.FuncImage{
		Name: name, Ksym: name, Prototype: req.Func.String(), Address: req.Addrs.Image, Code: code,
		BPFOffsets: []int{0}, Regions: c.regions, Notes: c.notes, Relocs: c.relocs, TailCallEntry: -1,
	}
	t.Frame = c.frame
	return t, nil
}

func notSupp(v string, format string, args ...any) error {
	return &jit.TrampError{Version: v, Errno: "ENOTSUPP", Code: -jit.ENOTSUPP, Msg: fmt.Sprintf(format, args...)}
}

// argLayout is what each version computes about the arguments before
// building: slots in registers, slots copied from the stack.
type argLayout struct {
	regSlots   int // registers saved (nregs / nreg_args / regs_for_args)
	nargs      int // slots saved for the programs (nregs / nargs / nfuncargs)
	argsInRegs int // 6.16: arguments passed in registers
	stackSlots int // 6.16: bstack_for_args / 8 (== ostack)
}

func (c *tctx) layoutArgs(v string) (argLayout, error) {
	m := c.m
	var a argLayout
	switch c.kind {
	case tramp8:
		// btf_func_model_nregs: nr_args plus a struct's extra registers.
		n := m.NrArgs
		for i := 0; i < m.NrArgs; i++ {
			if m.ArgFlags[i]&abi.FmodelStructArg != 0 {
				n += (m.ArgSize[i]+7)/8 - 1
			}
		}
		if n > 8 {
			return a, notSupp(v, "%d argument registers needed, the first 8 registers are used for arguments (nregs > 8)", n)
		}
		a.regSlots, a.nargs = n, n
	case trampV2:
		// btf_func_model_nargs: as nregs, limit MAX_BPF_FUNC_ARGS.
		n := m.NrArgs
		for i := 0; i < m.NrArgs; i++ {
			if m.ArgFlags[i]&abi.FmodelStructArg != 0 {
				n += (m.ArgSize[i]+7)/8 - 1
			}
		}
		if n > abi.MaxBPFFuncArgs {
			return a, notSupp(v, "nargs %d > MAX_BPF_FUNC_ARGS (%d)", n, abi.MaxBPFFuncArgs)
		}
		// btf_func_model_nreg_args.
		nreg := 0
		for i := 0; i < m.NrArgs; i++ {
			if m.ArgFlags[i]&abi.FmodelStructArg != 0 {
				extra := (m.ArgSize[i]+7)/8 - 1
				if nreg+extra > 7 {
					break
				}
				nreg += extra
			}
			nreg++
		}
		a.regSlots = min(nreg, 8)
		a.nargs = n
	case tramp616:
		// calc_arg_aux.
		i, nregs := 0, 0
		for ; i < m.NrArgs; i++ {
			slots := (m.ArgSize[i] + 7) / 8
			if nregs+slots > 8 {
				break
			}
			nregs += slots
		}
		a.argsInRegs, a.regSlots = i, nregs
		for ; i < m.NrArgs; i++ {
			if m.ArgFlags[i]&abi.FmodelStructArg != 0 {
				return a, notSupp(v, "argument %d (%s) is a struct passed on the stack: its alignment cannot be known (calc_arg_aux)", i+1, c.req.Func.ArgName(i))
			}
			a.stackSlots += (m.ArgSize[i] + 7) / 8
		}
		a.nargs = a.regSlots + a.stackSlots
	}
	return a, nil
}

func (c *tctx) str(rt, rn Reg, off int) {
	c.emitE(a64STRI(size64, rt, rn, off))
}

func (c *tctx) ldr(rt, rn Reg, off int) {
	c.emitE(a64LDRI(size64, rt, rn, off))
}

// call models emit_call: bl when 6.12+ and the target is within +-128 MiB
// of the trampoline's ro_image, else emit_addr_mov_i64 + blr.
func (c *tctx) call(target uint64, name string) {
	at := c.idx()
	if c.direct && c.inBLRange(target) {
		w, err := a64BL(int((int64(target) - int64(c.pc(c.idx()))) / 4))
		c.emitE(w, err)
		c.relocs = append(c.relocs, jit.Reloc{Offset: 4 * at, Field: 4 * at, Size: 4, Kind: "bl", Target: target, What: "kernel", Name: name})
	} else {
		c.addrMov(tmp1, target)
		blr := c.idx()
		c.emit(a64BLR(tmp1))
		c.relocs = append(c.relocs, jit.Reloc{Offset: 4 * blr, Field: 4 * at, Size: 4 * (blr - at + 1), Kind: "blr_imm64", Target: target, What: "kernel", Name: name})
		at = blr
	}
	c.note(at, "call %s", name)
}

func (c *tctx) slot(off, size int, name, note string) {
	c.frame = append(c.frame, jit.FrameSlot{Off: off, Size: size, Name: name, Note: note})
}

// build models prepare_trampoline.
func (c *tctx) build(t *jit.Trampoline) error {
	v := t.Version.Name
	req, flags := c.req, c.req.Flags
	a, err := c.layoutArgs(v)
	if err != nil {
		return err
	}
	callOrig := flags&jit.TrampCallOrig != 0
	saveRet := flags&(jit.TrampCallOrig|jit.TrampRetFentryRet) != 0

	// Stack layout, bottom up, as the kernel comment draws it.
	stackSize := 0
	oargsOff := 0
	ostack := 0
	switch c.kind {
	case trampV2:
		if callOrig && a.nargs-a.regSlots > 0 {
			ostack = (a.nargs - a.regSlots) * 8
		}
	case tramp616:
		if callOrig {
			ostack = a.stackSlots * 8
		}
	}
	stackSize += ostack
	runCtxOff := stackSize
	stackSize += sizeofTrampRunCtx
	ipOff := stackSize
	if flags&jit.TrampIPArg != 0 {
		stackSize += 8
	}
	nargsOff := stackSize
	stackSize += 8
	argsOff := stackSize
	stackSize += 8 * a.nargs
	retvalOff := stackSize
	if saveRet {
		stackSize += 8
	}
	regsOff := stackSize
	stackSize += 16
	padStart := stackSize
	stackSize = (stackSize + 15) &^ 15
	retaddrOff := stackSize + 8
	origSPOff := stackSize + 32

	argsName := map[trampKind]string{tramp8: "args_off", trampV2: "args_off", tramp616: "bargs_off"}[c.kind]
	nargsName := map[trampKind]string{tramp8: "nregs_off", trampV2: "nargs_off", tramp616: "nfuncargs_off"}[c.kind]
	if ostack > 0 {
		name := "stk_arg_off"
		if c.kind == tramp616 {
			name = "oargs_off"
		}
		c.slot(oargsOff, ostack, name, "stack arguments for the original function (CALL_ORIG)")
	}
	c.slot(runCtxOff, sizeofTrampRunCtx, "run_ctx_off", "struct bpf_tramp_run_ctx")
	if flags&jit.TrampIPArg != 0 {
		c.slot(ipOff, 8, "ip_off", "traced function address (IP_ARG)")
	}
	c.slot(nargsOff, 8, nargsName, fmt.Sprintf("argument count = %d", a.nargs))
	if a.nargs > 0 {
		c.slot(argsOff, 8*a.nargs, argsName, fmt.Sprintf("the programs' ctx: %d saved argument slots", a.nargs))
	}
	if saveRet {
		c.slot(retvalOff, 8, "retval_off", "return value")
	}
	c.slot(regsOff, 16, "regs_off", "callee-saved x19, x20")
	if stackSize > padStart {
		c.slot(padStart, stackSize-padStart, "", "padding to 16 bytes")
	}
	c.slot(stackSize, 8, "", "FP (patched function's frame record)")
	c.slot(retaddrOff, 8, "retaddr_off", "return address into the patched function (self ip)")
	c.slot(stackSize+16, 8, "", "FP (parent frame record)")
	c.slot(stackSize+24, 8, "", "parent ip (x9)")
	if n := len(req.Func.Args); n > 0 {
		c.slot(origSPOff, 0, "orig sp", "the traced function's stack arguments start here (FP + 32)")
	}
	t.CtxOff = argsOff
	t.NrArgsSaved = a.nargs

	// Code.
	at := c.idx()
	if c.p.BTI {
		c.emit(a64BTIJC)
	}
	c.emit(a64PUSH(FP, 9, SP)) // frame for parent function
	c.emit(a64MOV(true, FP, SP))
	c.emit(a64PUSH(FP, LR, SP)) // frame for patched function
	c.emit(a64MOV(true, FP, SP))
	c.emitE(a64SUBI(true, SP, SP, uint32(stackSize)))
	c.note(at, "frames for the parent (fp, x9) and the patched function (fp, lr); %d bytes of stack", stackSize)
	if flags&jit.TrampIPArg != 0 {
		ip := c.idx()
		c.addrMov(tmp1, req.Addrs.Func)
		c.str(tmp1, SP, ipOff)
		c.note(ip, "IP_ARG: save the traced function's address")
	}
	c.region(at, jit.RegionTrampFrame)

	at = c.idx()
	w, _ := a64MOVZ(true, tmp1, uint16(a.nargs), 0)
	c.emit(w)
	c.str(tmp1, SP, nargsOff)
	c.note(at, "save the argument count (%d) for bpf_get_func_arg_cnt", a.nargs)
	c.saveArgs(t, a, argsOff, origSPOff)
	c.str(19, SP, regsOff)
	c.str(20, SP, regsOff+8)
	c.region(at, jit.RegionTrampSave)

	if callOrig {
		at = c.idx()
		c.movImm64(0, req.Addrs.Im)
		c.call(req.Addrs.TrampEnt, "__bpf_tramp_enter")
		c.region(at, jit.RegionTrampEnter)
	}
	at = c.idx()
	for i := 0; i < req.Fentry; i++ {
		c.invokeProg(argsOff, retvalOff, runCtxOff, flags&jit.TrampRetFentryRet != 0, "fentry")
	}
	c.region(at, jit.RegionTrampFentry)

	var branches []int
	if req.FmodRt > 0 {
		at = c.idx()
		c.str(ZR, SP, retvalOff)
		c.note(at, "fmod_ret: the first program sees a zero return value")
		for i := 0; i < req.FmodRt; i++ {
			c.invokeProg(argsOff, retvalOff, runCtxOff, true, "fmod_ret")
			c.ldr(tmp1, SP, retvalOff)
			branches = append(branches, c.idx())
			c.emit(a64NOP)
		}
		c.region(at, jit.RegionTrampModRet)
	}

	if callOrig {
		at = c.idx()
		c.restoreForCall(t, a, argsOff, oargsOff)
		call := c.idx()
		c.ldr(tmp1, SP, retaddrOff)
		c.emitE(a64ADR(LR, 8))
		c.emit(a64RET(tmp1))
		c.note(call, "call the original function: ret to the return address, lr = the instruction after")
		c.str(0, SP, retvalOff)
		c.emit(a64NOP)
		c.note(c.idx()-1, "im->ip_after_call: nop reserved for bpf_tramp_image_put")
		c.region(at, jit.RegionTrampOrig)
	}
	for _, b := range branches {
		w, err := a64CBNZ(true, tmp1, c.idx()-b)
		if err != nil && c.err == nil {
			c.err = err
		}
		c.code[b] = w
		c.note(b, "fmod_ret returned nonzero: skip the original function")
	}

	at = c.idx()
	for i := 0; i < req.Fexit; i++ {
		c.invokeProg(argsOff, retvalOff, runCtxOff, false, "fexit")
	}
	if callOrig {
		ep := c.idx()
		c.movImm64(0, req.Addrs.Im)
		c.call(req.Addrs.TrampExit, "__bpf_tramp_exit")
		c.note(ep, "im->ip_epilogue")
	}
	c.region(at, jit.RegionTrampFexit)

	at = c.idx()
	if flags&jit.TrampRestoreRegs != 0 {
		for r := 0; r < a.regSlots; r++ {
			c.ldr(Reg(r), SP, argsOff+8*r)
		}
		if a.regSlots > 0 {
			c.note(at, "RESTORE_REGS: x0-x%d back from the saved arguments", a.regSlots-1)
		}
	}
	c.ldr(19, SP, regsOff)
	c.ldr(20, SP, regsOff+8)
	if saveRet {
		c.ldr(0, SP, retvalOff)
	}
	c.emit(a64MOV(true, SP, FP))
	c.emit(a64POP(FP, LR, SP))
	c.emit(a64POP(FP, 9, SP))
	if flags&jit.TrampSkipFrame != 0 {
		r := c.idx()
		c.emit(a64MOV(true, LR, 9))
		c.emit(a64RET(9))
		c.note(r, "SKIP_FRAME: return to the parent")
	} else {
		r := c.idx()
		c.emit(a64MOV(true, tmp1, LR))
		c.emit(a64MOV(true, LR, 9))
		c.emit(a64RET(tmp1))
		c.note(r, "return to the patched function")
	}
	c.region(at, jit.RegionTrampRestore)
	return nil
}

// saveArgs stores the arguments for the programs and records where each
// ctx slot comes from.
func (c *tctx) saveArgs(t *jit.Trampoline, a argLayout, argsOff, origSPOff int) {
	at := c.idx()
	set := func(slot int, src jit.SlotSource) {
		src.Slot = slot
		t.Ctx = append(t.Ctx, src)
	}
	switch c.kind {
	case tramp8:
		for i := 0; i < a.regSlots; i++ {
			c.str(Reg(i), SP, argsOff+8*i)
			set(i, jit.SlotSource{Reg: fmt.Sprintf("x%d", i)})
		}
	case trampV2:
		for i := 0; i < a.nargs; i++ {
			if i < a.regSlots {
				c.str(Reg(i), SP, argsOff+8*i)
				set(i, jit.SlotSource{Reg: fmt.Sprintf("x%d", i)})
			} else {
				pos := origSPOff + (i-a.regSlots)*8
				l := c.idx()
				c.ldr(tmp1, SP, pos)
				c.str(tmp1, SP, argsOff+8*i)
				c.note(l, "ctx[%d] = *(orig sp + %d)", i, pos-origSPOff)
				set(i, jit.SlotSource{Stack: pos - origSPOff})
			}
		}
	case tramp616:
		for r := 0; r < a.regSlots; r++ {
			c.str(Reg(r), SP, argsOff+8*r)
			set(r, jit.SlotSource{Reg: fmt.Sprintf("x%d", r)})
		}
		soff, doff, slot := 32, argsOff+8*a.regSlots, a.regSlots
		m := c.m
		for i := a.argsInRegs; i < m.NrArgs; i++ {
			slots := (m.ArgSize[i] + 7) / 8
			for slots > 0 {
				slots--
				l := c.idx()
				c.ldr(tmp1, FP, soff)
				if slots == 0 {
					if eff := m.ArgSize[i] % 8; eff != 0 {
						// clear_garbage (little endian): keep the low bytes.
						g := int32(64 - 8*eff)
						c.emitE(a64LSL(true, tmp1, tmp1, g))
						c.emitE(a64LSR(true, tmp1, tmp1, g))
					}
				}
				c.str(tmp1, SP, doff)
				c.note(l, "ctx[%d] = *(fp + %d) = *(orig sp + %d)", slot, soff, soff-32)
				set(slot, jit.SlotSource{Stack: soff - 32})
				soff += 8
				doff += 8
				slot++
			}
		}
	}
	if c.idx() > at {
		c.note(at, "save the arguments: the programs' ctx at sp+%d", argsOff)
	}
}

// restoreForCall puts the arguments back for the original function and
// records which ctx slot goes to which of its stack slots.
func (c *tctx) restoreForCall(t *jit.Trampoline, a argLayout, argsOff, oargsOff int) {
	at := c.idx()
	for r := 0; r < a.regSlots; r++ {
		c.ldr(Reg(r), SP, argsOff+8*r)
	}
	switch c.kind {
	case trampV2:
		// restore_stack_args: ctx slots nreg_args.. to stk_arg_off.
		off := oargsOff
		for i := a.regSlots; i < a.nargs; i++ {
			c.ldr(tmp1, SP, argsOff+8*i)
			c.str(tmp1, SP, off)
			src := jit.SlotSource{None: true, What: fmt.Sprintf("ctx[%d], never saved", i)}
			if i < len(t.Ctx) {
				src = t.Ctx[i]
			}
			src.Slot = len(t.OrigStack)
			t.OrigStack = append(t.OrigStack, src)
			off += 8
		}
	case tramp616:
		// save_args(..., for_call_origin): copied again from FP + 32.
		soff, doff := 32, oargsOff
		m := c.m
		slot := a.regSlots
		for i := a.argsInRegs; i < m.NrArgs; i++ {
			for s := 0; s < (m.ArgSize[i]+7)/8; s++ {
				c.ldr(tmp1, FP, soff)
				c.str(tmp1, SP, doff)
				t.OrigStack = append(t.OrigStack, jit.SlotSource{Slot: len(t.OrigStack), Stack: soff - 32})
				soff += 8
				doff += 8
				slot++
			}
		}
	}
	if c.idx() > at {
		c.note(at, "arguments back for the original function")
	}
}

// invokeProg models invoke_bpf_prog.
func (c *tctx) invokeProg(argsOff, retvalOff, runCtxOff int, saveRet bool, kind string) {
	req := c.req
	i := c.progI
	c.progI++
	var prog, fn, cookie uint64
	if i < len(req.Addrs.Progs) {
		prog = req.Addrs.Progs[i]
	}
	if i < len(req.Addrs.ProgFuncs) {
		fn = req.Addrs.ProgFuncs[i]
	}
	if i < len(req.Cookies) {
		cookie = req.Cookies[i]
	}
	at := c.idx()
	if cookie == 0 {
		c.str(ZR, SP, runCtxOff+cookieOff)
	} else {
		c.movImm64(tmp1, cookie)
		c.str(tmp1, SP, runCtxOff+cookieOff)
	}
	c.addrMov(19, prog)
	c.emit(a64MOV(true, 0, 19))
	c.emitE(a64ADDI(true, 1, SP, uint32(runCtxOff)))
	c.note(at, "%s program %d: run_ctx.bpf_cookie = %#x; x19 = prog", kind, i, cookie)
	c.call(req.Addrs.Enter, "__bpf_prog_enter_recur")
	c.emit(a64MOV(true, 20, 0))
	branch := c.idx()
	c.emit(a64NOP)
	c.emitE(a64ADDI(true, 0, SP, uint32(argsOff)))
	c.note(c.idx()-1, "x0 = ctx (sp+%d)", argsOff)
	c.call(fn, fmt.Sprintf("%s program %d", kind, i))
	if saveRet {
		c.str(0, SP, retvalOff)
	}
	w, err := a64CBZ(true, 0, c.idx()-branch)
	if err != nil && c.err == nil {
		c.err = err
	}
	c.code[branch] = w
	c.note(branch, "__bpf_prog_enter returned 0: skip the program")
	c.emit(a64MOV(true, 0, 19))
	c.emit(a64MOV(true, 1, 20))
	c.emitE(a64ADDI(true, 2, SP, uint32(runCtxOff)))
	c.call(req.Addrs.Exit, "__bpf_prog_exit_recur")
}
