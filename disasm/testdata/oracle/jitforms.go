package main

import "fmt"

// jitForms returns assembly for the instruction forms the Linux arm64 eBPF
// JIT emits (the A64_* macros of arch/arm64/net/bpf_jit.h, 6.1 to 6.18),
// with several registers and immediates each.
func jitForms() []string {
	var src []string
	add := func(format string, args ...any) { src = append(src, fmt.Sprintf(format, args...)) }
	regs := [][2]int{{0, 1}, {7, 0}, {10, 11}, {19, 25}, {26, 27}, {29, 30}}

	// Loads and stores: unsigned offset, register offset, unscaled,
	// pre/post-index, pairs, literal.
	for _, r := range regs {
		d, n := r[0], r[1]
		for _, m := range []string{"ldr x%d, [x%d, #%d]", "str x%d, [x%d, #%d]"} {
			add(m, d, n, 8*(d+1))
		}
		for _, m := range []string{"ldr w%d, [x%d, #%d]", "str w%d, [x%d, #%d]", "ldrsw x%d, [x%d, #%d]"} {
			add(m, d, n, 4*d)
		}
		for _, m := range []string{"ldrh w%d, [x%d, #%d]", "strh w%d, [x%d, #%d]", "ldrsh x%d, [x%d, #%d]", "ldrsh w%d, [x%d, #%d]"} {
			add(m, d, n, 2*d)
		}
		for _, m := range []string{"ldrb w%d, [x%d, #%d]", "strb w%d, [x%d, #%d]", "ldrsb x%d, [x%d, #%d]", "ldrsb w%d, [x%d, #%d]"} {
			add(m, d, n, d)
		}
		for _, op := range []string{"ldr x", "str x", "ldr w", "str w", "ldrh w", "strh w", "ldrb w", "strb w", "ldrsw x", "ldrsh x", "ldrsb x"} {
			add("%s%d, [x%d, x10]", op, d, n)
		}
		add("ldur x%d, [x%d, #-8]", d, n)
		add("stur w%d, [x%d, #-4]", d, n)
		add("ldr x%d, [x%d], #16", d, n)
		add("str x%d, [x%d, #-16]!", d, n)
	}
	add("ldr x10, [x1, x2, lsl #3]")
	add("ldr w10, [x1, w2, uxtw #2]")
	add("ldr x10, [sp]")
	add("str w1, [x0]")
	for _, p := range [][2]int{{29, 30}, {19, 20}, {21, 22}, {25, 26}, {27, 28}} {
		add("stp x%d, x%d, [sp, #-16]!", p[0], p[1])
		add("ldp x%d, x%d, [sp], #16", p[0], p[1])
		add("stp x%d, x%d, [sp, #16]", p[0], p[1])
		add("ldp x%d, x%d, [sp, #32]", p[0], p[1])
	}
	add("ldp w1, w2, [x3, #-8]")
	add("ldr x10, .+8")
	add("ldr w10, .-8")
	add("ldrsw x10, .+16")

	// Exclusive, acquire/release and LSE atomics (BPF_ATOMIC).
	for _, s := range []struct{ sfx, r string }{{"", "w"}, {"", "x"}, {"b", "w"}, {"h", "w"}} {
		for _, op := range []string{"ldadd", "ldclr", "ldeor", "ldset", "swp", "ldsmax", "ldumin"} {
			for _, o := range []string{"", "a", "l", "al"} {
				add("%s%s%s %s1, %s2, [x3]", op, o, s.sfx, s.r, s.r)
			}
		}
		for _, op := range []string{"stadd", "stclr", "steor", "stset"} {
			for _, o := range []string{"", "l"} {
				add("%s%s%s %s1, [x0]", op, o, s.sfx, s.r)
			}
		}
		for _, o := range []string{"", "a", "l", "al"} {
			add("cas%s%s %s1, %s2, [x3]", o, s.sfx, s.r, s.r)
		}
		for _, op := range []string{"ldxr", "ldaxr", "ldar", "ldapr", "stlr"} {
			add("%s%s %s4, [x5]", op, s.sfx, s.r)
		}
		for _, op := range []string{"stxr", "stlxr"} {
			add("%s%s w6, %s4, [x5]", op, s.sfx, s.r)
		}
	}
	add("stadd w1, [sp]")
	add("ldaddal x1, x2, [x3]")
	add("casal x10, x11, [x1]")
	add("caspal x0, x1, x2, x3, [x4]")
	add("ldxp x0, x1, [x2]")
	add("stlxp w3, x0, x1, [x2]")
	for _, b := range []string{"dmb ish", "dmb ishld", "dmb ishst", "dmb sy", "dsb sy", "dsb ish", "isb", "sb", "ssbb", "pssbb", "csdb", "clrex"} {
		add("%s", b)
	}

	// Arithmetic, logic and moves.
	for _, r := range regs {
		d, n := r[0], r[1]
		for _, x := range []string{"x", "w"} {
			for _, op := range []string{"add", "sub", "adds", "subs"} {
				add("%s %s%d, %s%d, #0x%x", op, x, d, x, n, d*37)
				add("%s %s%d, %s%d, %s10", op, x, d, x, n, x)
			}
			add("add %s%d, %s%d, #0x%x, lsl #12", x, d, x, n, n+1)
			add("cmp %s%d, #0x%x", x, d, n)
			add("cmn %s%d, #0x%x", x, d, n)
			add("cmp %s%d, %s%d", x, d, x, n)
			add("cmn %s%d, %s%d", x, d, x, n)
			add("tst %s%d, %s%d", x, d, x, n)
			add("tst %s%d, #0x1", x, d)
			add("neg %s%d, %s%d", x, d, x, n)
			add("mvn %s%d, %s%d", x, d, x, n)
			for _, op := range []string{"and", "orr", "eor", "ands", "bic", "orn", "eon"} {
				add("%s %s%d, %s%d, %s10", op, x, d, x, n, x)
			}
			for _, imm := range []string{"0xff", "0x1", "0xffff0000", "0x80000000", "0x7ffffffe"} {
				add("and %s%d, %s%d, #%s", x, d, x, n, imm)
				add("orr %s%d, %s%d, #%s", x, d, x, n, imm)
				add("eor %s%d, %s%d, #%s", x, d, x, n, imm)
				add("ands %s%d, %s%d, #%s", x, d, x, n, imm)
			}
			for _, op := range []string{"mul", "mneg", "udiv", "sdiv", "lsl", "lsr", "asr", "ror", "lslv", "lsrv", "asrv", "rorv"} {
				add("%s %s%d, %s%d, %s10", op, x, d, x, n, x)
			}
			add("madd %s%d, %s%d, %s10, %s11", x, d, x, n, x, x)
			add("msub %s%d, %s%d, %s10, %s11", x, d, x, n, x, x)
			for _, sh := range []int{1, 3, 16, 31} {
				for _, op := range []string{"lsl", "lsr", "asr", "ror"} {
					add("%s %s%d, %s%d, #%d", op, x, d, x, n, sh)
				}
			}
			add("mov %s%d, %s%d", x, d, x, n)
			add("rev %s%d, %s%d", x, d, x, n)
			add("rev16 %s%d, %s%d", x, d, x, n)
			add("cset %s%d, eq", x, d)
			add("csetm %s%d, hi", x, d)
			add("csel %s%d, %s%d, %s10, lt", x, d, x, n, x)
			add("csinc %s%d, %s%d, %s10, ge", x, d, x, n, x)
			add("cinc %s%d, %s%d, le", x, d, x, n)
			add("csneg %s%d, %s%d, %s10, mi", x, d, x, n, x)
			add("ubfx %s%d, %s%d, #4, #8", x, d, x, n)
			add("sbfx %s%d, %s%d, #4, #8", x, d, x, n)
			add("bfi %s%d, %s%d, #8, #4", x, d, x, n)
			add("bfxil %s%d, %s%d, #8, #4", x, d, x, n)
			add("ubfiz %s%d, %s%d, #8, #4", x, d, x, n)
			add("sbfiz %s%d, %s%d, #8, #4", x, d, x, n)
			add("extr %s%d, %s%d, %s10, #5", x, d, x, n, x)
		}
		add("rev32 x%d, x%d", d, n)
		add("smulh x%d, x%d, x10", d, n)
		add("umulh x%d, x%d, x10", d, n)
		add("smull x%d, w%d, w10", d, n)
		add("umull x%d, w%d, w10", d, n)
		add("sxtw x%d, w%d", d, n)
		add("sxth x%d, w%d", d, n)
		add("sxtb x%d, w%d", d, n)
		add("sxth w%d, w%d", d, n)
		add("sxtb w%d, w%d", d, n)
		add("uxth w%d, w%d", d, n)
		add("uxtb w%d, w%d", d, n)
		add("add x%d, x%d, w10, uxtw", d, n)
		add("add x%d, x%d, x10, lsl #3", d, n)
		add("sub x%d, x%d, x10, asr #2", d, n)
		add("add x%d, x%d, #0x0", d, n)
		add("sub x%d, x%d, #0x0", d, n)
	}
	for _, imm := range []string{"0x0", "0x1", "0x24", "0x110", "0xffff", "0xffff0000", "-1", "-2", "0xffffffffffffd25c", "0xffffff80ffffffff", "0xffffffc0ffffffff", "0xffff000000000000", "0x7fffffff", "0x80000000"} {
		add("mov x10, #%s", imm)
	}
	for _, imm := range []string{"0x0", "0x1", "0x30", "0xffff", "0xffff0000", "-1", "-65536", "0x7fffffff"} {
		add("mov w10, #%s", imm)
	}
	for _, m := range []string{
		"movz x1, #0x0", "movz x1, #0x1, lsl #16", "movn x1, #0x0, lsl #48", "movn w1, #0xffff, lsl #16", "movz w1, #0x0, lsl #16",
		"movk x10, #0x902, lsl #16", "movk x10, #0xffc0, lsl #32", "movk x20, #0x4e00", "movk x0, #0x8000, lsl #48", "movk w1, #0x1, lsl #16",
		"mov x0, #0x5555555555555555", "mov w0, #0xf0f0f0f0", "orr x0, xzr, #0xffff0000ffff", "mov sp, #0xff00",
		"mov sp, sp", "mov x29, sp", "mov x25, sp", "mov sp, x25", "mov wsp, w1", "add sp, sp, #0x10", "sub sp, sp, #0x10",
		"add x9, x30, #0x0", "sub x27, x25, #0x0", "bfc x1, #8, #4", "bfc w1, #0, #1",
	} {
		add("%s", m)
	}

	// Branches, calls and the system instructions of prologues and helpers.
	conds := []string{"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al", "nv"}
	for i, c := range conds {
		add("b.%s .%+d", c, 4*(i*17-100))
		add("csel x1, x2, x3, %s", c)
		add("ccmp x1, x2, #0x%x, %s", i, c)
		add("ccmp w1, #0x%x, #0x3, %s", i, c)
	}
	for _, off := range []int{-0x100000, -4, 0, 4, 0x1000, 0x7fffffc} {
		add("b .%+d", off)
		add("bl .%+d", off)
	}
	for _, off := range []int{-0x40000, -8, 0, 8, 0xfffc} {
		add("cbz x11, .%+d", off)
		add("cbnz w1, .%+d", off)
		add("tbz x1, #63, .%+d", off/8&^3)
		add("tbnz w2, #3, .%+d", off/8&^3)
		add("adr x0, .%+d", off)
		add("adrp x1, .%+d", off*0x1000)
	}
	for _, r := range []int{0, 1, 10, 11, 16, 17, 30} {
		add("br x%d", r)
		add("blr x%d", r)
		add("ret x%d", r)
	}
	for _, h := range []string{"nop", "yield", "paciasp", "autiasp", "pacibsp", "autibsp", "paciaz", "autiaz", "xpaclri",
		"pacia1716", "autia1716", "bti", "bti c", "bti j", "bti jc", "esb", "psb csync", "hint #0x6", "hint #0x7f"} {
		add("%s", h)
	}
	for _, s := range []string{"pacia x0, x1", "autia x30, sp", "paciza x2", "xpaci x30", "xpacd x0", "pacga x1, x2, x3",
		"braa x0, x1", "blraaz x10", "retaa", "retab"} {
		add("%s", s)
	}
	for _, sr := range []string{"sp_el0", "tpidr_el1", "tpidr_el2", "tpidr_el0", "nzcv", "daif", "cntvct_el0", "currentel", "midr_el1", "fpcr"} {
		add("mrs x10, %s", sr)
	}
	add("msr nzcv, x1")
	add("msr tpidr_el1, x0")
	add("mrs x0, s3_1_c15_c2_1")
	for _, imm := range []string{"0x0", "0x1", "0x3e8", "0x800", "0xffff"} {
		add("brk #%s", imm)
		add("svc #%s", imm)
	}
	add("udf #0")
	add("udf #65535")
	return src
}
