package main

import (
	"fmt"
	"strings"
)

var (
	regs64 = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	regs32 = []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
	regs16 = []string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}
	regs8  = []string{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b", "ah", "ch", "dh", "bh"}
	mems   = []string{"(%rax)", "(%rsp)", "(%rbp)", "(%r12)", "(%r13)", "0x8(%rbx)", "-0x8(%rbp)", "-0x10(%rbp)",
		"0x7f(%rdi)", "-0x80(%rsi)", "0x80(%rdi)", "-0x81(%rsi)", "0x1234(%r9)", "-0x1234(%r10)", "0x7fffffff(%r11)",
		"-0x80000000(%rax)", "(%rax,%rbx,1)", "(%rsi,%rdx,8)", "0x138(%rsi,%rdx,8)", "-0x4(%rbp,%rcx,4)", "(,%rax,2)",
		"0x10(,%rax,4)", "0x12345678", "(%rsp,%rax,1)", "(%r13,%r14,2)", "0x10(%rip)", "-0x10(%rip)",
		"0x0(%rax,%rax,1)", "(%eax)", "-0x4(%ebp)", "0x10(%r12d)", "%fs:0x28", "%gs:(%rax)", "-0x8(%r12,%r15,8)"}
	sizes  = []int{8, 16, 32, 64}
	suffix = map[int]string{8: "b", 16: "w", 32: "l", 64: "q"}
	regsOf = map[int][]string{8: regs8, 16: regs16, 32: regs32, 64: regs64}
	imms   = map[int][]string{
		8:  {"$0x0", "$0x1", "$0x7f", "$-0x80", "$0xff"},
		16: {"$0x1", "$0x7f", "$0x80", "$0x1234", "$-0x1"},
		32: {"$0x0", "$0x1", "$0x7f", "$0x80", "$-0x1", "$-0x80", "$-0x81", "$0x7fffffff", "$0x80000000", "$0xffffffff"},
		64: {"$0x0", "$0x1", "$0x7f", "$0x80", "$-0x1", "$-0x80", "$-0x81", "$0x7fffffff", "$-0x80000000"},
	}
	conds = []string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}
)

func every[T any](s []T, step int) []T {
	var out []T
	for i := 0; i < len(s); i += step {
		out = append(out, s[i])
	}
	return out
}

func highByte(r string) bool { return len(r) == 2 && r[1] == 'h' }
func rexByte(r string) bool {
	return r == "spl" || r == "bpl" || r == "sil" || r == "dil" || strings.HasPrefix(r, "r")
}

// forms returns GNU as source lines for the general-purpose integer
// instructions (every ALU, shift, multiply/divide, move and extension form
// over a spread of registers, immediates and addressing modes), the
// branches, the NOPs and fences, the BMI forms, the instructions the
// kernel's BPF JIT emits, and hand-made byte sequences for prefixes.
func forms() []string { return append(broadForms(), specialForms()...) }

// fixtureForms is forms thinned for the checked-in fixture: every
// fourth broad form and all special ones.
func fixtureForms() []string { return append(every(broadForms(), 4), specialForms()...) }

// specialForms are the JIT's forms and the byte sequences.
func specialForms() []string {
	out := jitForms()
	for _, b := range byteForms {
		out = append(out, ".byte "+b)
	}
	return out
}

func broadForms() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	for _, op := range []string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test", "mov"} {
		for _, s := range sizes {
			rs := regsOf[s]
			src := append(every(rs[:16], 3), rs[16:]...)
			for _, a := range src {
				for _, b := range every(rs, 5) {
					if s == 8 && ((highByte(a) && rexByte(b)) || (highByte(b) && rexByte(a))) {
						continue
					}
					add("%s %%%s,%%%s", op, a, b)
				}
			}
			for _, i := range imms[s] {
				for _, b := range []string{rs[0], rs[4], rs[8], rs[12]} {
					add("%s%s %s,%%%s", op, suffix[s], i, b)
				}
				for _, m := range every(mems, 3) {
					add("%s%s %s,%s", op, suffix[s], i, m)
				}
			}
			for _, m := range mems {
				add("%s %%%s,%s", op, rs[1], m)
				if op != "test" {
					add("%s %s,%%%s", op, m, rs[2])
				}
			}
		}
	}
	for _, op := range []string{"not", "neg", "mul", "imul", "div", "idiv", "inc", "dec"} {
		for _, s := range sizes {
			for _, b := range every(regsOf[s], 3) {
				add("%s %%%s", op, b)
			}
			for _, m := range every(mems, 4) {
				add("%s%s %s", op, suffix[s], m)
			}
		}
	}
	for _, op := range []string{"rol", "ror", "rcl", "rcr", "shl", "shr", "sar"} {
		for _, s := range sizes {
			for _, b := range every(regsOf[s], 5) {
				add("%s %%%s", op, b)
				add("%s $0x3,%%%s", op, b)
				add("%s %%cl,%%%s", op, b)
				add("%s $0x3f,%%%s", op, b)
			}
			for _, m := range every(mems, 6) {
				add("%s%s %s", op, suffix[s], m)
				add("%s%s $0x5,%s", op, suffix[s], m)
				add("%s%s %%cl,%s", op, suffix[s], m)
			}
		}
	}
	for _, s := range []int{16, 32, 64} {
		rs := regsOf[s]
		for _, a := range every(rs, 3) {
			for _, b := range every(rs, 4) {
				add("imul %%%s,%%%s", a, b)
				add("imul $0x12,%%%s,%%%s", a, b)
				add("imul $0x1234,%%%s,%%%s", a, b)
			}
			for _, m := range every(mems, 5) {
				add("imul %s,%%%s", m, a)
				add("imul $-0x3,%s,%%%s", m, a)
			}
		}
		for _, a := range every(rs, 2) {
			for _, b := range every(rs, 3) {
				add("xchg %%%s,%%%s", a, b)
				add("xadd %%%s,%%%s", a, b)
				add("cmpxchg %%%s,%%%s", a, b)
			}
			for _, m := range every(mems, 4) {
				for _, f := range []string{"xchg", "lock xadd", "lock cmpxchg", "xadd", "lock add", "lock and", "lock or", "lock xor", "lock sub", "bt", "bts", "lock btr", "btc"} {
					add("%s %%%s,%s", f, a, m)
				}
			}
		}
		for _, a := range rs {
			add("bswap %%%s", a)
		}
	}
	for _, a := range every(regs8, 3) {
		for _, m := range every(mems, 6) {
			add("lock xadd %%%s,%s", a, m)
			add("lock cmpxchg %%%s,%s", a, m)
			add("xchg %%%s,%s", a, m)
		}
	}
	for _, ext := range []struct {
		s  int
		sr string
	}{{8, "b"}, {16, "w"}} {
		for _, dst := range []int{16, 32, 64} {
			if dst <= ext.s {
				continue
			}
			for _, a := range every(regsOf[ext.s], 3) {
				for _, b := range every(regsOf[dst], 5) {
					if highByte(a) && rexByte(b) {
						continue
					}
					add("movz%s%s %%%s,%%%s", ext.sr, suffix[dst], a, b)
					add("movs%s%s %%%s,%%%s", ext.sr, suffix[dst], a, b)
				}
			}
			for _, m := range every(mems, 4) {
				add("movz%s%s %s,%%%s", ext.sr, suffix[dst], m, regsOf[dst][3])
				add("movs%s%s %s,%%%s", ext.sr, suffix[dst], m, regsOf[dst][9])
			}
		}
	}
	for _, a := range every(regs32, 3) {
		for _, b := range every(regs64, 2) {
			add("movslq %%%s,%%%s", a, b)
		}
	}
	for _, m := range every(mems, 3) {
		add("movslq %s,%%r11", m)
		add("movslq %s,%%rax", m)
	}
	for _, b := range regs64 {
		add("movabs $0xffff8881025d8e00,%%%s", b)
		add("movabs $0x1,%%%s", b)
		add("mov $0x1234,%%%s", b)
		add("mov $-0x1,%%%s", b)
		for _, f := range []string{"push %%%s", "pop %%%s", "call *%%%s", "jmp *%%%s", "notrack jmp *%%%s", "notrack call *%%%s"} {
			add(f, b)
		}
	}
	for _, b := range regs32 {
		add("mov $0xdeadbeef,%%%s", b)
		add("mov $0x0,%%%s", b)
	}
	for _, b := range regs16 {
		add("mov $0xbeef,%%%s", b)
		add("push %%%s", b)
		add("pop %%%s", b)
	}
	for _, b := range regs8 {
		add("mov $0xef,%%%s", b)
	}
	for _, m := range every(mems, 2) {
		for _, f := range []string{"lea %s,%%rax", "lea %s,%%r11d", "lea %s,%%cx", "pushq %s", "popq %s", "pushw %s", "popw %s",
			"call *%s", "jmp *%s", "notrack jmp *%s", "nopl %s", "nopw %s", "prefetcht0 %s", "prefetchw %s", "clflush %s",
			"cmpxchg8b %s", "lock cmpxchg16b %s", "sete %s", "setne %s", "cmovge %s,%%r9", "bsf %s,%%rax", "tzcnt %s,%%ecx",
			"popcnt %s,%%dx", "movbe %s,%%eax"} {
			add(f, m)
		}
	}
	out = append(out, "pushq $0x0", "pushq $0x7f", "pushq $0x80", "pushq $-0x1", "pushq $0x12345678", "pushw $0x12", "push $0x1",
		"leave", "ret", "ret $0x8", "int3", "int $0x80", "lfence", "mfence", "sfence", "pause", "nop", "xchg %ax,%ax",
		"xchg %eax,%eax", "xchg %rax,%rax", "cltq", "cqto", "cltd", "cwtl", "cwtd", "cbtw", "hlt", "ud2", "cpuid", "rdtsc",
		"rdtscp", "endbr64", "endbr32", "stac", "clac", "syscall", "pushf", "popf", "pushfw", "popfw", "cld", "std", "clc",
		"stc", "cmc", "sahf", "lahf", "cli", "sti", "int1", "enter $0x10,$0x0", "enter $0x0,$0x1",
		"lock orl $0x0,(%rsp)", "lock addl $0x0,-0x4(%rsp)", "rep ret", "repz ret", "bnd ret", "bnd ret $0x10")
	for _, c := range conds {
		for _, f := range []string{"set%s %%al", "set%s %%r9b", "set%s %%sil", "set%s (%%rax)", "set%s -0x8(%%rbp)",
			"cmov%s %%rax,%%rcx", "cmov%s %%r8d,%%ecx", "cmov%s (%%rsi),%%edx", "cmov%s %%ax,%%dx", "cmov%s -0x10(%%rbp),%%r15"} {
			add(f, c)
		}
	}
	for _, b := range every(regs64, 3) {
		b32 := regs32[indexOf(regs64, b)]
		for _, op := range []string{"shlx", "shrx", "sarx", "bextr", "bzhi"} {
			add("%s %%rcx,%%%s,%%r10", op, b)
			add("%s %%%s,%%rdi,%%rax", op, b)
			add("%s %%r11,(%%%s),%%rdx", op, b)
			add("%s %%ecx,%%%s,%%esi", op, b32)
			add("%s %%r9d,-0x8(%%%s),%%r8d", op, b)
		}
		for _, op := range []string{"andn", "pdep", "pext", "mulx"} {
			add("%s %%rcx,%%%s,%%rax", op, b)
			add("%s (%%%s),%%r12,%%rax", op, b)
			add("%s %%r9d,%%%s,%%r11d", op, b32)
		}
		for _, op := range []string{"blsr", "blsmsk", "blsi"} {
			add("%s %%%s,%%r9", op, b)
			add("%s (%%%s),%%eax", op, b)
		}
		add("rorx $0x5,%%%s,%%r9", b)
		add("rorx $0x1f,(%%%s),%%ecx", b)
	}
	for _, op := range []string{"popcnt", "lzcnt", "tzcnt", "bsf", "bsr"} {
		out = append(out, op+" %rax,%rcx", op+" %r9d,%ecx", op+" (%rax),%r10", op+" %ax,%cx")
	}
	for _, op := range []string{"bt", "bts", "btr", "btc"} {
		out = append(out, op+" %rax,%rcx", op+" $0x3,%r9d", op+"q $0x3f,(%rax)", op+"w $0x3,-0x8(%rbp)", op+" %eax,(%rbx)", op+" $0x7,%ax")
	}
	for _, op := range []string{"shld", "shrd"} {
		out = append(out, op+" $0x3,%rax,%rcx", op+" %cl,%r9d,%ecx", op+" $0x1f,%eax,(%rbx)", op+" %cl,%ax,-0x8(%rbp)")
	}
	for _, j := range []string{"jmp", "call", "je", "jne", "ja", "jae", "jb", "jbe", "jg", "jge", "jl", "jle", "js", "jns",
		"jo", "jno", "jp", "jnp", "jrcxz", "jecxz", "loop", "loope", "loopne"} {
		add("%s .+0x10", j)
		add("%s .-0x20", j)
		if j != "jrcxz" && j != "jecxz" && !strings.HasPrefix(j, "loop") {
			add("%s .+0x1000", j)
			add("%s .-0x1000", j)
		}
	}
	out = append(out, "bnd jmp .+0x10", "bnd call .+0x100", "bnd je .+0x200", "bnd jmp *%rax", "jmp .+0x100000", "call .-0x100000")
	return out
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// jitForms are instructions bpf_jit_comp.c (6.1 and 6.18) emits, written
// the way its comments name them.
func jitForms() []string {
	var out []string
	for _, r := range []string{"rax", "rdi", "rsi", "rdx", "rcx", "r8", "rbx", "r13", "r14", "r15", "r9", "r10", "r11", "r12", "rbp"} {
		r32 := regs32[indexOf(regs64, r)]
		r16 := regs16[indexOf(regs64, r)]
		r8 := regs8[indexOf(regs64, r)]
		out = append(out,
			"movzbl 0x10(%"+r+"),%"+r32, "movzwl -0x8(%"+r+"),%"+r32, "mov 0x7f(%"+r+"),%"+r32, "mov -0x200(%"+r+"),%"+r,
			"movsbq 0x1(%"+r+"),%rax", "movswq 0x2(%"+r+"),%rdx", "movslq 0x4(%"+r+"),%r11",
			"mov %"+r8+",0x3(%rdi)", "mov %"+r16+",-0x2(%rbp)", "mov %"+r32+",0x18(%rsi)", "mov %"+r+",-0x30(%rbp)",
			"movb $0x1,0x1(%"+r+")", "movw $0x1234,0x2(%"+r+")", "movl $0x12345678,-0x4(%"+r+")", "movq $-0x1,0x8(%"+r+")",
			"lock xadd %"+r+",0x10(%rdi)", "lock xadd %"+r32+",-0x8(%"+r+")", "lock cmpxchg %"+r+",0x8(%rsi)",
			"lock cmpxchg %"+r32+",(%"+r+")", "xchg %"+r+",0x18(%rdx)", "lock add %"+r+",(%rdi)", "lock and %"+r32+",0x4(%rsi)",
			"lock or %"+r+",-0x8(%rbp)", "lock xor %"+r32+",0x8(%"+r+")",
			"add %"+r+",%rdi", "sub %rsi,%"+r, "and %"+r32+",%edx", "or %"+r+",%r11", "xor %"+r32+",%"+r32, "mov %"+r+",%rax",
			"mov %"+r32+",%"+r32, "add $0x8,%"+r, "sub $0x1000,%"+r, "and $0xff,%"+r32, "or $-0x1,%"+r, "xor $0x7f,%"+r32,
			"cmp $0x21,%"+r, "cmp %"+r+",%rdi", "test %"+r+",%"+r, "test $0x1,%"+r32, "neg %"+r, "neg %"+r32,
			"mul %"+r, "div %"+r32, "idiv %"+r, "imul %"+r+",%rdi", "imul $0x7,%"+r+",%"+r, "imul $0x12345,%"+r32+",%"+r32,
			"shl $0x3,%"+r, "shr $0x3f,%"+r32, "sar $0x1,%"+r, "shl %"+r, "shr %cl,%"+r, "sar %cl,%"+r32,
			"shlx %rcx,%"+r+",%"+r, "shrx %rsi,%"+r+",%"+r, "sarx %"+r32+",%"+r32+",%"+r32,
			"bswap %"+r, "bswap %"+r32, "rol $0x8,%"+r16, "movzwl %"+r16+",%"+r32, "mov %"+r32+",%"+r32,
			"push %"+r, "pop %"+r, "movabs $0xffffffffc0513ab4,%"+r, "mov $0x80000000,%"+r32, "mov $-0x1,%"+r,
			"cmpq $0x21,(%"+r+")", "addq $0x1,(%"+r+")", "mov -0x4(%rbp),%"+r32, "cmp %"+r+",%r11",
			"mov %gs:0x1234,%"+r, "add %gs:0x22f00,%"+r, "lea 0x10(%"+r+"),%rdi", "movabs $0x8000000000000000,%"+r,
		)
	}
	out = append(out, "xor %edx,%edx", "xor %eax,%eax", "xor %rax,%rax", "cqto", "cltd", "int3", "lfence", "pause",
		"endbr64", "leave", "ret", "jmp *%rcx", "call *%rcx", "jmp *%rax", "call *%r11", "mov %rsp,%rbp", "sub $0x10,%rsp",
		"add $0x0,%rsp", "cmp 0x10(%rsi),%edx", "cmp %edx,0x10(%rsi)", "mov 0x110(%rsi,%rdx,8),%rcx",
		"mov 0x20(%rcx),%rcx", "add $0x1b,%rcx", "mov -0x224(%rbp),%eax", "mov %eax,-0x224(%rbp)", "cmp $0x21,%eax",
		"add $0x1,%eax", "mov (%rax),%rax", "movabs $0xffffffff814ca4d0,%rax")
	return out
}

// byteForms are encodings written as bytes: the kernel's NOPs, prefix
// combinations objdump prints specially, and ModRM/SIB corner cases.
var byteForms = []string{
	"0x90", "0x66,0x90", "0x0f,0x1f,0x00", "0x0f,0x1f,0x40,0x00", "0x0f,0x1f,0x44,0x00,0x00",
	"0x66,0x0f,0x1f,0x44,0x00,0x00", "0x0f,0x1f,0x80,0,0,0,0", "0x0f,0x1f,0x84,0,0,0,0,0", "0x66,0x0f,0x1f,0x84,0,0,0,0,0",
	"0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0", "0x66,0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0", "0x3e,0x0f,0x1f,0x80,0,0,0,0",
	"0x3e,0x0f,0x1f,0x84,0,0,0,0,0", "0x2e,0x0f,0x1f,0x84,0,0,0,0,0", "0x66,0x66,0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0",
	"0x0f,0x1f,0xc0", "0x66,0x0f,0x1f,0xc0", "0x48,0x0f,0x1f,0x00", "0x0f,0x19,0x00", "0x0f,0x1e,0x00", "0x0f,0x1d,0x40,0x00",
	"0x0f,0x1e,0xfa", "0xf3,0x0f,0x1e,0xfa", "0xf3,0x0f,0x1e,0xfb", "0xf3,0x90", "0x66,0x66,0x90",
	"0x2e,0x8b,0x00", "0x3e,0x8b,0x00", "0x26,0x8b,0x00", "0x36,0x8b,0x00", "0x64,0x8b,0x00", "0x65,0x48,0x8b,0x04,0x25,0x28,0,0,0",
	"0x40,0x01,0xc0", "0x40,0x90", "0x48,0x50", "0x41,0x50", "0x48,0x41,0x50", "0x66,0x48,0x01,0xc0", "0x42,0x01,0xc0",
	"0x42,0x8b,0x00", "0x41,0x8b,0x04,0x25,0,0,0,0", "0x44,0xff,0xc0", "0x44,0xd1,0xe0", "0x48,0xff,0xd0", "0x41,0xff,0xd3",
	"0x63,0xc0", "0x66,0x63,0xc0", "0x8b,0x04,0x25,0,0,0,0x80", "0x8b,0x04,0x65,0x10,0,0,0", "0x8b,0x04,0x20",
	"0x8b,0x04,0x60", "0x8b,0x04,0x24", "0x8b,0x04,0x64", "0x8b,0x44,0x20,0x10", "0x8b,0x84,0x25,0xf0,0xff,0xff,0xff",
	"0x8b,0x04,0xe5,0x10,0,0,0", "0x8b,0x04,0xa5,0xf0,0xff,0xff,0xff", "0x42,0x8b,0x04,0x20", "0x4a,0x8b,0x04,0x25,0,0,0,0",
	"0x67,0x8b,0x05,0x10,0,0,0", "0x67,0x8b,0x00", "0x67,0x90", "0x67,0x8b,0x44,0x24,0x08", "0x67,0x8b,0x04,0x85,0,0,0,0",
	"0x66,0x8f,0x00", "0x66,0xff,0x30", "0x66,0x9c", "0x48,0x9c", "0xd0,0xf0", "0xd1,0xf0", "0xc1,0xf0,0x03", "0xd3,0x30",
	"0xf6,0xc8,0x01", "0xf7,0xc8,0x01,0,0,0", "0xf6,0x08,0x01", "0xf0,0x48,0x0f,0xc1,0x00", "0xf0,0x48,0x01,0xc0",
	"0xf3,0x48,0x01,0xc0", "0xf2,0x48,0x01,0xc0", "0xf3,0x0f,0xb8,0xc0", "0x66,0xf3,0x0f,0xb8,0xc0", "0x0f,0xae,0xe8",
	"0x0f,0xae,0xe9", "0x0f,0xae,0xf0", "0x0f,0xae,0xf7", "0x0f,0xae,0xf8", "0x0f,0xae,0xff",
	"0x48,0x8d,0x05,0x10,0,0,0", "0x8b,0x05,0xf0,0xff,0xff,0xff", "0xff,0x25,0x10,0,0,0", "0xff,0x15,0xf0,0xff,0xff,0xff",
	"0xc4,0xe2,0xf9,0xf7,0xc1", "0xc4,0xe2,0x79,0xf7,0xc1", "0xc4,0x62,0xf9,0xf7,0xc1", "0xc4,0xc2,0x31,0xf7,0x04,0x24",
	"0xc4,0xa2,0xf9,0xf7,0x04,0x08", "0xc4,0xe2,0xfb,0xf7,0xc1", "0xc4,0xe2,0xfa,0xf7,0xc1",
	"0xe2,0x00", "0xe3,0x00", "0x67,0xe3,0x00", "0xf2,0x74,0x00", "0xf2,0x0f,0x84,0,0,0,0", "0x2e,0x74,0x00", "0x3e,0x74,0x00",
	"0x3e,0x0f,0x85,0,0,0,0", "0x66,0x74,0x00", "0x48,0xe9,0,0,0,0", "0x48,0xe8,0,0,0,0", "0x48,0x74,0x00", "0xf2,0xe9,0,0,0,0",
	"0xf2,0xe8,0,0,0,0", "0xf2,0xeb,0x00", "0xf2,0xc3", "0xf3,0xc3", "0xf2,0xff,0xe0", "0xf2,0xff,0xd0", "0x3e,0xff,0xe0",
	"0x3e,0xff,0x10", "0xf2,0x3e,0xff,0xe1", "0x48,0xc9", "0x48,0xc3", "0x40,0x88,0xc4", "0x88,0xc4", "0x40,0x0f,0x94,0xc4",
	"0x0f,0x94,0xc4", "0x41,0x0f,0x94,0xc0", "0x0f,0x90,0xc8", "0x0f,0xa2", "0x0f,0x31", "0x0f,0x05", "0xf1", "0xf4",
	"0x66,0x0f,0xb6,0xc0", "0x48,0x0f,0xb7,0xc0", "0x0f,0xb7,0xc0", "0x66,0x0f,0xb7,0xc0", "0x0f,0xbe,0x00", "0x0f,0xbf,0x00",
	"0x48,0x0f,0xbf,0x00", "0x0f,0xc8", "0x48,0x0f,0xcb", "0x66,0x0f,0xc8", "0x49,0x0f,0xcf", "0x0f,0xa3,0xc0",
	"0x48,0x0f,0xa3,0x00", "0x0f,0xba,0xe0,0x05", "0x0f,0xba,0x20,0x05", "0x48,0x0f,0xba,0x38,0x3f",
	"0x48,0x81,0xc4,0,0,0,0", "0x48,0x81,0xec,0,0,0,0", "0x48,0x83,0xc4,0x08", "0xe9,0x0e,0,0,0", "0x5b", "0x58",
	"0x31,0xc0", "0x48,0x31,0xc0", "0x66,0x90", "0x55", "0x48,0x89,0xe5", "0x50", "0x53", "0x48,0x89,0xdf",
	"0xcc", "0xcc,0xcc", "0x0f,0x0b", "0x41,0x5f", "0x41,0x5e", "0x41,0x5d", "0x41,0x55", "0x41,0x56", "0x41,0x57",
	"0x49,0x89,0xc3", "0x4c,0x89,0xd8", "0x48,0xf7,0xf6", "0x48,0x99", "0x48,0xf7,0xfe", "0x99", "0xf7,0xfe",
	"0x66,0xc1,0xc0,0x08", "0x0f,0xb7,0xc0", "0x66,0x41,0xc1,0xc3,0x08", "0x45,0x0f,0xb7,0xdb",
	"0xc4,0xe2,0xf9,0xf7,0xc7", "0xc4,0xe2,0xfb,0xf7,0xc7", "0xc4,0xe2,0xfa,0xf7,0xc7", "0xc4,0x42,0xb1,0xf7,0xc8",
}
