// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// The x86-64 trampoline JIT: __arch_prepare_bpf_trampoline of
// arch/x86/net/bpf_jit_comp.c as of 6.13-6.18.
var trampVersions = []*jit.TrampVersion{
	{
		Name:    "v6.5",
		Arch:    kernel.X86_64,
		Kernel:  "6.1-6.5 (before the 12-argument support)",
		Summary: "arguments in the 6 registers only: nr_regs (a struct counts its registers) > 6 is -ENOTSUPP; push rbx / pop rbx",
		Sources: []string{
			"Menglong Dong, \"[PATCH bpf-next v5 2/3] bpf, x86: allow function arguments up to 12 for TRACING\" (2023-06-13, merged for 6.6): its '-' lines and context are the function before: save_regs/restore_regs over min(nr_regs, 6) registers, 'if (nr_regs > 6) return -ENOTSUPP', push rbx after sub rsp, pop rbx before leave, lea and sub with 8-bit displacements",
			"the rest as in __arch_prepare_bpf_trampoline of 6.18, which the patch's context agrees with; the BPF JIT profile v6.1's configuration (plain ret + int3, emit_mov_imm64 without the sign-extended form); not checked against a 6.1-6.5 kernel's bytes",
		},
		Profile: "v6.1",
	},
	{
		Name:    "v6.18",
		Arch:    kernel.X86_64,
		Kernel:  "6.6-6.18 (12 arguments since 6.6)",
		Summary: "12 arguments (6.6, \"bpf, x86: allow function arguments up to 12 for TRACING\"): nr_regs (a struct counts its registers) > 12 is -ENOTSUPP; stack arguments copied as consecutive 8-byte slots from rbp+0x18",
		Sources: []string{
			"arch/x86/net/bpf_jit_comp.c, 6.13+ (stored copy with private stacks, search index file id 30848717): __arch_prepare_bpf_trampoline, save_args, restore_regs, clean_stack_garbage, get_nr_used_regs, invoke_bpf_prog, invoke_bpf_mod_ret, emit_align",
			"the x86_64-6.18 capture's configuration (this machine): no IBT, no call depth tracking, returns through srso_alias_return_thunk",
		},
		Profile: "v6.18",
	},
}

type trampBackend struct{}

func init() { jit.RegisterTrampolines(kernel.X86_64, trampBackend{}) }

func (trampBackend) TrampVersions() []*jit.TrampVersion { return trampVersions }

// sizeofTrampRunCtx is (sizeof(struct bpf_tramp_run_ctx) + 7) & ~7: an
// empty struct bpf_run_ctx, u64 bpf_cookie (offset 0), a pointer.
const sizeofTrampRunCtx = 16

// argReg is the register save_args/restore_regs use for the n-th argument
// register: BPF_REG_1..5 (rdi, rsi, rdx, rcx, r8), then X86_REG_R9.
func argReg(n int) int {
	if n == 5 {
		return regR9
	}
	return r1 + n
}

var argRegNames = [6]string{"rdi", "rsi", "rdx", "rcx", "r8", "r9"}

type tctx struct {
	*ctx
	req   *jit.TrampRequest
	m     *abi.FuncModel
	progI int
	// pre66: the trampoline before 6.6's 12-argument support.
	pre66 bool
}

// Trampoline models arch_prepare_bpf_trampoline (6.18).
func (trampBackend) Trampoline(req *jit.TrampRequest, tv *jit.TrampVersion) (*jit.Trampoline, error) {
	if tv.Name != "v6.18" && tv.Name != "v6.5" {
		return nil, fmt.Errorf("no x86-64 trampoline JIT %q", tv.Name)
	}
	m, err := req.Func.Model()
	if err != nil {
		return nil, err
	}
	prof, err := jit.LookupProfile(kernel.X86_64, tv.Profile)
	if err != nil {
		return nil, err
	}
	v, err := versionOf(prof)
	if err != nil {
		return nil, err
	}
	name := "bpf_trampoline_" + req.Func.Name
	c := &tctx{
		ctx: &ctx{
			l: &kernel.Loaded{Name: name}, f: &kernel.LoadedFunc{Name: name}, p: prof, v: v,
			cfg: configFor(v, req.Config), image: req.Addrs.Image, emitting: true, final: true,
			returnThunk: req.Addrs.ReturnThunk,
		},
		req: req, m: m, pre66: tv.Name == "v6.5",
	}
	t := &jit.Trampoline{Arch: kernel.X86_64, Version: tv, Request: req, Model: m, Base: "rbp"}
	if err := c.build(t); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	t.Image = &jit.FuncImage{
		Name: name, Ksym: name, Prototype: req.Func.String(), Address: req.Addrs.Image, Code: c.code,
		BPFOffsets: []int{0}, Regions: c.regions, Notes: c.notes, Relocs: c.relocs, TailCallEntry: -1,
	}
	return t, nil
}

// nrUsedRegs models get_nr_used_regs.
func (c *tctx) nrUsedRegs() int {
	n := 0
	for i := 0; i < min(c.m.NrArgs, abi.MaxBPFFuncArgs); i++ {
		r := (c.m.ArgSize[i] + 7) / 8
		if n+r <= 6 {
			n += r
		}
		if n >= 6 {
			break
		}
	}
	return n
}

func (c *tctx) slot(t *jit.Trampoline, off, size int, name, note string) {
	t.Frame = append(t.Frame, jit.FrameSlot{Off: off, Size: size, Name: name, Note: note})
}

func (c *tctx) build(t *jit.Trampoline) error {
	req, m, flags := c.req, c.m, c.req.Flags
	nrRegs := m.NrArgs
	for i := 0; i < m.NrArgs; i++ {
		if m.ArgFlags[i]&abi.FmodelStructArg != 0 {
			nrRegs += (m.ArgSize[i]+7)/8 - 1
		}
	}
	if c.pre66 && nrRegs > 6 {
		return &jit.TrampError{Version: t.Version.Name, Errno: "ENOTSUPP", Code: -jit.ENOTSUPP,
			Msg: fmt.Sprintf("nr_regs %d > 6: x86-64 supports up to 6 arguments", nrRegs)}
	}
	if nrRegs > abi.MaxBPFFuncArgs {
		return &jit.TrampError{Version: t.Version.Name, Errno: "ENOTSUPP", Code: -jit.ENOTSUPP,
			Msg: fmt.Sprintf("nr_regs %d > MAX_BPF_FUNC_ARGS (%d)", nrRegs, abi.MaxBPFFuncArgs)}
	}
	saveRet := flags&(jit.TrampCallOrig|jit.TrampRetFentryRet) != 0
	stackSize := 0
	if saveRet {
		stackSize += 8
	}
	stackSize += nrRegs * 8
	regsOff := stackSize
	stackSize += 8
	nregsOff := stackSize
	if flags&jit.TrampIPArg != 0 {
		stackSize += 8
	}
	ipOff := stackSize
	rbxOff := 0
	if !c.pre66 {
		stackSize += 8
		rbxOff = stackSize
	}
	stackSize += sizeofTrampRunCtx
	runCtxOff := stackSize
	if nrRegs > 6 && flags&jit.TrampCallOrig != 0 {
		stackSize += (nrRegs - c.nrUsedRegs()) * 8
		if stackSize%16 == 0 {
			stackSize += 8
		}
	}
	argStackOff := stackSize

	// The frame, as offsets from rbp (negative below it).
	c.slot(t, 8, 8, "", "return address into the traced function")
	c.slot(t, 0, 8, "", "saved rbp")
	if saveRet {
		c.slot(t, -8, 8, "", "return value")
	}
	if nrRegs > 0 {
		c.slot(t, -regsOff, 8*nrRegs, "regs_off", fmt.Sprintf("the programs' ctx: %d argument slots", nrRegs))
	}
	c.slot(t, -nregsOff, 8, "nregs_off", fmt.Sprintf("regs count = %d", nrRegs))
	if flags&jit.TrampIPArg != 0 {
		c.slot(t, -ipOff, 8, "ip_off", "traced function address (IP_ARG)")
	}
	if c.pre66 {
		c.slot(t, -stackSize-8, 8, "", "saved rbx (push rbx)")
	} else {
		c.slot(t, -rbxOff, 8, "rbx_off", "saved rbx")
	}
	c.slot(t, -runCtxOff, sizeofTrampRunCtx, "run_ctx_off", "struct bpf_tramp_run_ctx")
	if argStackOff > runCtxOff {
		c.slot(t, -argStackOff, argStackOff-runCtxOff, "arg_stack_off", "stack arguments for the original function (CALL_ORIG), padded so rsp is 16-byte aligned at the call")
	}
	c.slot(t, 24, 0, "", "the traced function's stack arguments start here (rbp + 0x18)")
	t.CtxOff = -regsOff
	t.NrArgsSaved = nrRegs

	origCall := req.Addrs.Func
	if flags&jit.TrampSkipFrame != 0 {
		// Skip the patched call, and the traced function's endbr64 on IBT
		// kernels (is_endbr).
		if c.cfg.IBT {
			origCall += 4 // ENDBR_INSN_SIZE
		}
		origCall += 5 // X86_PATCH_SIZE
	}

	if flags&jit.TrampIndirect != 0 && (c.cfg.CFI || c.cfg.IBT) {
		return fmt.Errorf("%s: emit_cfi for an INDIRECT (struct_ops) trampoline with kCFI or IBT is not modelled", t.Version.Name)
	}
	at := c.pos()
	c.emit1(0x55)             // push rbp
	c.emit3(0x48, 0x89, 0xE5) // mov rbp, rsp
	if !isImm8(int64(stackSize)) {
		c.emit3(0x48, 0x81, 0xEC) // sub rsp, stack_size
		c.emit32(int32(stackSize))
	} else {
		c.emit4(0x48, 0x83, 0xEC, byte(stackSize)) // sub rsp, stack_size
	}
	c.note(at, "frame: %d bytes below rbp", stackSize)
	if c.pre66 {
		c.emit1(0x53) // push rbx
	} else {
		c.emitStx(kernel.SizeDW, fp, r6, int32(-rbxOff)) // mov QWORD PTR [rbp - rbx_off], rbx
	}
	c.region(at, jit.RegionTrampFrame)

	at = c.pos()
	c.emitMovImm64(r0, uint64(uint32(nrRegs)))         // mov rax, nr_regs
	c.emitStx(kernel.SizeDW, fp, r0, int32(-nregsOff)) // mov QWORD PTR [rbp - nregs_off], rax
	c.note(at, "save the argument register count (%d)", nrRegs)
	if flags&jit.TrampIPArg != 0 {
		ip := c.pos()
		c.emitMovImm64(r0, req.Addrs.Func)
		c.emitStx(kernel.SizeDW, fp, r0, int32(-ipOff))
		c.note(ip, "IP_ARG: save the traced function's address")
	}
	c.saveArgs(t, regsOff, false)
	c.region(at, jit.RegionTrampSave)

	if flags&jit.TrampCallOrig != 0 {
		at = c.pos()
		c.emitMovImm64(r1, req.Addrs.Im) // mov rdi, im
		c.call(req.Addrs.TrampEnt, "__bpf_tramp_enter")
		c.region(at, jit.RegionTrampEnter)
	}
	at = c.pos()
	for i := 0; i < req.Fentry; i++ {
		c.invokeProg(regsOff, runCtxOff, flags&jit.TrampRetFentryRet != 0, "fentry")
	}
	c.region(at, jit.RegionTrampFentry)

	var branches []int
	if req.FmodRt > 0 {
		at = c.pos()
		c.emitMovImm32(false, r0, 0)
		c.emitStx(kernel.SizeDW, fp, r0, -8)
		c.note(at, "fmod_ret: the first program sees a zero return value")
		for i := 0; i < req.FmodRt; i++ {
			c.invokeProg(regsOff, runCtxOff, true, "fmod_ret")
			c.emit(0x48, 0x83, 0x7d, 0xf8, 0x00) // cmp QWORD PTR [rbp - 0x8], 0x0
			branches = append(branches, c.pos())
			c.emitNops(6)
		}
		c.region(at, jit.RegionTrampModRet)
	}

	if flags&jit.TrampCallOrig != 0 {
		at = c.pos()
		c.restoreRegs(regsOff)
		c.saveArgs(t, argStackOff, true)
		call := c.pos()
		c.call(origCall, req.Func.Name+"+5")
		c.note(call, "call the original function (past its patched call)")
		c.emitStx(kernel.SizeDW, fp, r0, -8) // mov QWORD PTR [rbp - 8], rax
		c.note(c.pos(), "im->ip_after_call: nop5 reserved for bpf_tramp_image_put")
		c.emitNops(5)
		c.region(at, jit.RegionTrampOrig)
	}
	if req.FmodRt > 0 {
		// emit_align(16): do_fexit is 16-byte aligned.
		if pad := (16 - int(c.addr(c.pos())%16)) % 16; pad > 0 {
			c.emitNops(pad)
		}
		for _, b := range branches {
			off := int64(c.pos()) - int64(b+6)
			w := []byte{0x0F, 0x85, byte(off), byte(off >> 8), byte(off >> 16), byte(off >> 24)} // jne do_fexit
			copy(c.code[b:], w)
			c.note(b, "fmod_ret returned nonzero: skip the original function")
		}
	}
	at = c.pos()
	for i := 0; i < req.Fexit; i++ {
		c.invokeProg(regsOff, runCtxOff, false, "fexit")
	}
	c.region(at, jit.RegionTrampFexit)

	at = c.pos()
	if flags&jit.TrampRestoreRegs != 0 {
		c.restoreRegs(regsOff)
		c.note(at, "RESTORE_REGS: argument registers back from the ctx")
	}
	if flags&jit.TrampCallOrig != 0 {
		ep := c.pos()
		c.emitMovImm64(r1, req.Addrs.Im)
		c.call(req.Addrs.TrampExit, "__bpf_tramp_exit")
		c.note(ep, "im->ip_epilogue")
	}
	if saveRet {
		c.emitLdx(kernel.SizeDW, r0, fp, -8) // mov rax, QWORD PTR [rbp - 8]
	}
	if c.pre66 {
		c.emit1(0x5B) // pop rbx
	} else {
		c.emitLdx(kernel.SizeDW, r6, fp, int32(-rbxOff)) // mov rbx, QWORD PTR [rbp - rbx_off]
	}
	c.emit1(0xC9) // leave
	if flags&jit.TrampSkipFrame != 0 {
		c.emit4(0x48, 0x83, 0xC4, 8) // add rsp, 8
		c.note(c.pos()-4, "SKIP_FRAME: return to the traced function's caller")
	}
	if c.cfg.ReturnThunk != "" && req.Addrs.ReturnThunk == 0 {
		return fmt.Errorf("%s: the return thunk %s has no address", t.Version.Name, c.cfg.ReturnThunk)
	}
	c.emitReturn()
	c.region(at, jit.RegionTrampRestore)
	return nil
}

// call models emit_rsb_call without call depth tracking: call rel32.
func (c *tctx) call(target uint64, name string) {
	at := c.pos()
	c.jumpTo(target, "call_rel32", "kernel", name)
	c.note(at, "call %s", name)
}

// saveArgs models save_args: for the programs (argument registers and
// stack slots stored from rbp - stackSize upwards), or for the original
// function's call (only the stack slots).
func (c *tctx) saveArgs(t *jit.Trampoline, stackSize int, forCallOrigin bool) {
	if c.pre66 {
		if forCallOrigin {
			return
		}
		// save_regs (before 6.6): register i to -(stack_size - 8*i)
		// for the first min(nr_regs, 6) registers, whatever the
		// arguments' sizes.
		at := c.pos()
		for i := 0; i < min(t.NrArgsSaved, 6); i++ {
			c.emitStx(kernel.SizeDW, fp, argReg(i), int32(-(stackSize - 8*i)))
			c.record(t, i, jit.SlotSource{Reg: argRegNames[i]}, stackSize-8*i)
		}
		if c.pos() > at {
			c.note(at, "save_regs: the programs' ctx at rbp-%#x", stackSize)
		}
		return
	}
	m := c.m
	nrRegs, nrStack, firstOff := 0, 0, 0
	slot := 0
	at := c.pos()
	for i := 0; i < min(m.NrArgs, abi.MaxBPFFuncArgs); i++ {
		argRegs := (m.ArgSize[i] + 7) / 8
		if nrRegs+argRegs > 6 {
			for j := 0; j < argRegs; j++ {
				l := c.pos()
				c.emitLdx(kernel.SizeDW, r0, fp, int32(nrStack*8+0x18))
				c.emitStx(kernel.SizeDW, fp, r0, int32(-stackSize))
				if forCallOrigin {
					t.OrigStack = append(t.OrigStack, jit.SlotSource{Slot: len(t.OrigStack), Stack: nrStack * 8})
				} else {
					c.note(l, "ctx[%d] = *(rbp + %#x) = *(orig sp + %d)", slot, nrStack*8+0x18, nrStack*8)
					c.record(t, slot, jit.SlotSource{Stack: nrStack * 8}, stackSize)
					slot++
				}
				if nrStack == 0 {
					firstOff = stackSize
				}
				stackSize -= 8
				nrStack++
			}
		} else {
			if forCallOrigin {
				nrRegs += argRegs
				continue
			}
			for j := 0; j < argRegs; j++ {
				c.emitStx(kernel.SizeDW, fp, argReg(nrRegs), int32(-stackSize))
				c.record(t, slot, jit.SlotSource{Reg: argRegNames[nrRegs]}, stackSize)
				slot++
				stackSize -= 8
				nrRegs++
			}
		}
	}
	// clean_stack_garbage: one stack slot, the last argument 4 bytes or less.
	if nrStack == 1 && m.NrArgs > 0 && m.ArgSize[m.NrArgs-1] <= 4 {
		off := -(firstOff - 4)
		l := c.pos()
		if !isImm8(int64(off)) {
			c.emit2(0xC7, 0x85) // mov DWORD PTR [rbp + off], 0
			c.emit32(int32(off))
		} else {
			c.emit3(0xC7, 0x45, byte(off))
		}
		c.emit32(0)
		c.note(l, "clean_stack_garbage: zero the upper half of the one stack slot")
	}
	if c.pos() > at {
		if forCallOrigin {
			c.note(at, "stack arguments for the original function at rbp-%#x", stackSize+8*nrStack)
		} else {
			c.note(at, "save the arguments: the programs' ctx at rbp-%#x", -t.CtxOff)
		}
	}
}

// record notes where ctx slot came from, and whether the store lands
// outside the slots the frame reserved.
func (c *tctx) record(t *jit.Trampoline, slot int, src jit.SlotSource, stackSize int) {
	src.Slot = slot
	t.Ctx = append(t.Ctx, src)
	if slot >= t.NrArgsSaved {
		what := "the return value slot"
		switch {
		case -stackSize == 0:
			what = "the saved rbp"
		case -stackSize == 8:
			what = "the return address"
		case -stackSize > 8:
			what = "the traced function's caller's frame"
		}
		t.Warnings = append(t.Warnings, fmt.Sprintf("ctx[%d] is stored at rbp%+d, beyond the %d slots the frame reserves (nr_regs counts a 16-byte non-struct argument once): it overwrites %s", slot, -stackSize, t.NrArgsSaved, what))
	}
}

// restoreRegs models restore_regs.
func (c *tctx) restoreRegs(stackSize int) {
	if c.pre66 {
		for i := 0; i < min(c.nrRegsModel(), 6); i++ {
			c.emitLdx(kernel.SizeDW, argReg(i), fp, int32(-(stackSize - 8*i)))
		}
		return
	}
	m := c.m
	nrRegs := 0
	for i := 0; i < min(m.NrArgs, abi.MaxBPFFuncArgs); i++ {
		argRegs := (m.ArgSize[i] + 7) / 8
		if nrRegs+argRegs <= 6 {
			for j := 0; j < argRegs; j++ {
				c.emitLdx(kernel.SizeDW, argReg(nrRegs), fp, int32(-stackSize))
				stackSize -= 8
				nrRegs++
			}
		} else {
			stackSize -= 8 * argRegs
		}
		if nrRegs >= 6 {
			break
		}
	}
}

// lea emits lea reg, [rbp - off] as invoke_bpf_prog does (modrm 0x45 |
// reg<<3 for disp8, 0x85 | reg<<3 for disp32).
func (c *tctx) lea(modrm8 byte, off int) {
	if !isImm8(int64(-off)) {
		c.emit3(0x48, 0x8D, modrm8+0x40)
		c.emit32(int32(-off))
	} else {
		c.emit4(0x48, 0x8D, modrm8, byte(-off))
	}
}

// invokeProg models invoke_bpf_prog.
func (c *tctx) invokeProg(stackSize, runCtxOff int, saveRet bool, kind string) {
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
	at := c.pos()
	c.emitMovImm64(r1, cookie)                          // mov rdi, cookie
	c.emitStx(kernel.SizeDW, fp, r1, int32(-runCtxOff)) // mov QWORD PTR [rbp - run_ctx_off + ctx_cookie_off], rdi
	c.emitMovImm64(r1, prog)                            // mov rdi, progs[i]
	c.lea(0x75, runCtxOff)                              // lea rsi, [rbp - run_ctx_off]
	c.note(at, "%s program %d: run_ctx.bpf_cookie = %#x", kind, i, cookie)
	c.call(req.Addrs.Enter, "__bpf_prog_enter_recur")
	c.emitMovReg(true, r6, r0) // mov rbx, rax
	c.emit3(0x48, 0x85, 0xC0)  // test rax, rax
	je := c.pos()
	c.emitNops(2)
	l := c.pos()
	c.lea(0x7D, stackSize) // lea rdi, [rbp - stack_size]
	c.note(l, "rdi = ctx (rbp-%#x)", stackSize)
	c.call(fn, fmt.Sprintf("%s program %d", kind, i))
	if saveRet {
		c.emitStx(kernel.SizeDW, fp, r0, -8)
	}
	c.code[je] = 0x74 // je skip
	c.code[je+1] = byte(c.pos() - je - 2)
	c.note(je, "__bpf_prog_enter returned 0: skip the program")
	c.emitMovImm64(r1, prog)   // mov rdi, progs[i]
	c.emitMovReg(true, r2, r6) // mov rsi, rbx
	c.lea(0x55, runCtxOff)     // lea rdx, [rbp - run_ctx_off]
	c.call(req.Addrs.Exit, "__bpf_prog_exit_recur")
}

// nrRegsModel is nr_regs: the arguments, a struct counting its registers.
func (c *tctx) nrRegsModel() int {
	n := c.m.NrArgs
	for i := 0; i < c.m.NrArgs; i++ {
		if c.m.ArgFlags[i]&abi.FmodelStructArg != 0 {
			n += (c.m.ArgSize[i]+7)/8 - 1
		}
	}
	return n
}
