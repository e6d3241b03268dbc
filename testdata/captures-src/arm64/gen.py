#!/usr/bin/env python3
"""Generates alu.c, jmp.c and mem.c: BPF programs written as inline asm so that
clang emits exactly the instruction forms wanted (the arm64 JIT's build_insn
cases).  Instructions clang 14's assembler does not parse (mod, BPF_ST imm
stores) are emitted as raw .long pairs.  Run: python3 gen.py (in this dir)."""

def raw(code, dst, src=0, off=0, imm=0, comment=''):
    w0 = (code & 0xff) | ((dst & 0xf) << 8) | ((src & 0xf) << 12) | ((off & 0xffff) << 16)
    return '.long 0x%08x, 0x%08x /* %s */' % (w0, imm & 0xffffffff, comment)

ALU64, ALU, JMP, JMP32 = 0x07, 0x04, 0x05, 0x06
MOD = 0x90
SZ = {'u8': 0x10, 'u16': 0x08, 'u32': 0x00, 'u64': 0x18}
def st(size, dst, off, imm):   # BPF_ST | BPF_MEM | size
    return raw(0x02 | 0x60 | SZ[size], dst, 0, off, imm, '*(%s *)(r%d %+d) = %d' % (size, dst, off, imm))

def prog(name, body, clobber_callee=False):
    cl = '"r0", "r1", "r2", "r3", "r4", "r5", "memory"'
    return '''SEC("tc")
int %s(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct io *io = bpf_map_lookup_elem(&iomap, &key);
	__u64 ret;

	if (!io)
		return 0;
	asm volatile(
%s
	: "=r"(ret) : [p]"r"(io->in), [o]"r"(io->out)
	: %s);
	return ret;
}
''' % (name, '\n'.join('\t"%s\\n"' % l for l in body), cl)

def ld():
    return ["r1 = *(u64 *)(%[p] + 0)", "r2 = *(u64 *)(%[p] + 8)", "r3 = *(u64 *)(%[p] + 16)"]
def fin(reg='r1'):
    return ["*(u64 *)(%[o] + 0) = " + reg, "*(u64 *)(%[o] + 8) = r3", "%0 = 0"]

def binop(R, d, s, op):
    if op == '%=':
        return raw((ALU64 if R == 'r' else ALU) | MOD | 0x08, d, s, 0, 0, '%s%d %%= %s%d' % (R, d, R, s))
    return '%s%d %s %s%d' % (R, d, op, R, s)
def immop(R, d, op, v):
    if op == '%=':
        return raw((ALU64 if R == 'r' else ALU) | MOD, d, 0, 0, v, '%s%d %%= %d' % (R, d, v))
    return '%s%d %s %d' % (R, d, op, v)

OPS = ['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', 's>>=']

def gen_alu():
    out = []
    for name, R in (('alu64_reg', 'r'), ('alu32_reg', 'w')):
        b = ld() + ['%s1 = %s2' % (R, R), '%s3 = %s1' % (R, R), 'r1 = *(u64 *)(%[p] + 0)']
        for op in OPS:
            b.append(binop(R, 1, 2, op)); b.append(binop(R, 3, 1, op))
        b += ['%s1 = -%s1' % (R, R), '%s3 = -%s3' % (R, R)]
        if R == 'r':
            b += ['r2 = r10', 'r3 = r1']
        b += fin()
        out.append(prog(name, b))

    movimm = [0, 1, 0x1234, 0xffff, 0x10000, 0x12345, 0x7fffffff, -1, -2, -0x10000, -0x10001, -0x7fff0001,
              -0x80000000, -0x12345678, 0x12340000, -0x12340000, -0xffff, 0x8000]
    addimm = [0, 1, 4095, 4096, 0x1000, 0xfff000, 0x1001, 0x12345678, 0x7fffffff, -1, -4095, -4096,
              -0xfff000, -0x1001, -0x12345678, -0x80000000, 0x1000000, 0xfff001, -0x10000]
    logimm = [0xff, 0xff00, 0x7fffffff, 0xfffe, -256, -2, 0x0f0f0f0f, 0x55555555, -0x55555556, 0x12345,
              0x1001, 0, -1, 0x3ffc0, -0x80000000, 1, 0x80000000 - 1 - 0xffff, -0x10000]
    mulimm = [3, 1, 0x12345, -7, 0x7fffffff, 0]
    divimm = [3, 1, 0x12345, -7, 0x10000]
    for name, R, shimm in (('alu64_imm', 'r', [0, 1, 7, 31, 32, 63]), ('alu32_imm', 'w', [0, 1, 7, 16, 31])):
        b = ld()
        for v in movimm:
            b.append('%s3 = %d' % (R, v)); b.append('%s1 += %s3' % (R, R))
        for op in ['+=', '-=']:
            for v in addimm:
                b.append(immop(R, 1, op, v))
        for op in ['&=', '|=', '^=']:
            for v in logimm:
                b.append(immop(R, 1, op, v))
                b.append('%s1 += %s2' % (R, R))
        for v in mulimm:
            b.append(immop(R, 1, '*=', v)); b.append('%s1 += %s2' % (R, R))
        for op in ['/=', '%=']:
            for v in divimm:
                b.append(immop(R, 1, op, v)); b.append('%s1 += %s2' % (R, R))
        for op in ['<<=', '>>=', 's>>=']:
            for v in shimm:
                b.append(immop(R, 1, op, v)); b.append('%s1 ^= %s2' % (R, R))
        b += fin()
        out.append(prog(name, b))

    b = ld()
    for e in ['be16', 'be32', 'be64', 'le16', 'le32', 'le64']:
        b += ['r1 = %s r1' % e, 'r3 ^= r1', 'r1 = r2']
    b += fin('r3')
    out.append(prog('endian', b))

    consts = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80001234, 0xffffffff, 0xffff0000, 0x1234ffff,
              0x100000000, 0x1234000000000000, 0xffff000000000000, 0xffffffff00000000, 0xffffffff80000000,
              0xffff1234ffffffff, 0x123456789abcdef0, 0xfedcba9876543210, 0x0000ffff0000ffff, 0xffff0000ffff0000,
              0x8000000000000000, 0xffffffffffffffff, 0x00010000ffff0000, 0x1ffff, 0xffff12340000ffff,
              0x0000123400005678, 0xfffffffffffe0000, 0x7fffffffffffffff, 0x00000001ffffffff, 0xffffffff0000ffff,
              0x12345678ffff0000, 0xffff00000000ffff, 0x0000ffffffffffff, 0xffff000000001234, 0x00000000ffff8000]
    b = ld()
    for c in consts:
        b += ['r3 = 0x%x ll' % c, 'r1 ^= r3']
    b += fin()
    out.append(prog('ldimm64', b))
    return out

def jmp(R, d, c, kind, v):
    if c != '&':
        return 'if %s%d %s %s goto +1' % (R, d, c, (R + str(v)) if kind == 'r' else str(v))
    code = (JMP if R == 'r' else JMP32) | 0x40 | (0x08 if kind == 'r' else 0)
    if kind == 'r':
        return raw(code, d, v, 1, 0, 'if %s%d & %s%d goto +1' % (R, d, R, v))
    return raw(code, d, 0, 1, v, 'if %s%d & %d goto +1' % (R, d, v))

CONDS = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&']
def gen_jmp():
    out = []
    for name, R in (('jmp64_reg', 'r'), ('jmp32_reg', 'w')):
        b = ['r0 = 0'] + ld()
        for c in CONDS:
            b += [jmp(R, 1, c, 'r', 2), 'r0 += 1']
            b += [jmp(R, 3, c, 'r', 1), 'r0 += 2']
        b += fin() [:2] + ['%0 = r0']
        out.append(prog(name, b))
    # immediates: avoid comparisons the verifier can decide (u > -1, u < 0 ...)
    imms = [0, 1, 4095, 4096, 0xfff000, 0x1001, 0x12345, 0x7fffffff, -1, -4095, -4096, -0xfff000, -0x1001,
            -0x12345, -0x80000000, 0x10000, -0x10000]
    setimm = [1, 0x80, 0xff00, 0x55555555, -2, -256, 0x12345, -1, 0x7fffffff, 0x1001, -0x80000000, 0x0f0f0f0f]
    for name, R in (('jmp64_imm', 'r'), ('jmp32_imm', 'w')):
        b = ['r0 = 0'] + ld()
        for c in CONDS[:-1]:
            for v in imms:
                if v == 0 and c in ('<', '>='):
                    continue
                if v == -1 and c in ('>', '<='):
                    continue
                b += ['if %s1 %s %d goto +1' % (R, c, v), 'r0 += 1']
        for v in setimm:
            b += [jmp(R, 1, '&', 'k', v), 'r0 += 1']
        b += fin()[:2] + ['%0 = r0']
        out.append(prog(name, b))
    # goto, backward goto (bounded loop), exit in the middle, last insn a goto
    b = ['r0 = 0'] + ld() + [
        'if r1 > r2 goto +2', 'r0 = 7', 'goto +3',
        'r0 = 9', 'if r1 == 0 goto +1', 'r0 += 1',
        'r4 = 0',
        'r4 += 1',                  # loop
        'r0 += r4',
        'if r4 < 4 goto -3',
        'if w3 == 5 goto +2',
        '%0 = r0',
        'goto +2',
        'r0 = 42', 'exit',          # exit in the middle
        '%0 = r0',
    ]
    out.append(prog('jmp_misc', b))
    # the last instruction is a backward goto (the JIT's epilogue follows it)
    out.append('''SEC("tc")
__attribute__((naked)) int last_ja(void)
{
	asm volatile(
	"r0 = 0\\n"
	"r1 = 0\\n"
	"r1 += 1\\n"
	"if r1 < 4 goto +1\\n"
	"exit\\n"
	"r0 += r1\\n"
	"goto -5\\n"
	::: "memory");
}
''')
    return out

def gen_mem():
    out = []
    # pointer into a 40000-byte .bss array
    b = ['r0 = 0', 'r1 = %[big]', 'r4 = 0']
    offs = {'u8': [0, 1, 7, 255, 4095, 4096, 4097, 32767],
            'u16': [0, 2, 1, 3, 8190, 8191, 8192, 32766],
            'u32': [0, 4, 2, 5, 16380, 16382, 16384, 32764],
            'u64': [0, 8, 4, 1, 32760, 32764, 32767, 256]}
    R = {'u8': 'w', 'u16': 'w', 'u32': 'w', 'u64': 'r'}
    for sz, os in offs.items():
        for o in os:
            b += ['r2 = *(%s *)(r1 + %d)' % (sz, o), 'r4 += r2']
            b += ['*(%s *)(r1 + %d) = %s4' % (sz, o, R[sz])]
    for sz, os in offs.items():
        for o, v in zip(os, [0, 1, -1, 0x1234, -0x1234, 0x12345678, -0x12345678, 0x7fffffff]):
            b.append(st(sz, 1, o, v))
    # negative offsets from a non-stack pointer
    b += ['r3 = r1', 'r3 += 1024']
    for sz in ('u8', 'u16', 'u32', 'u64'):
        for o in (-8, -256, -300, -1024):
            b += ['r2 = *(%s *)(r3 %d)' % (sz, o), 'r4 += r2', '*(%s *)(r3 %d) = %s4' % (sz, o, R[sz])]
            b.append(st(sz, 3, o, 77))
    b += ['%0 = r4']
    out.append(prog_big('mem_ptr', b))

    def stackprog(name, offs, extra=()):
        b = ['r4 = *(u64 *)(%[p] + 0)']
        for sz, o in offs:
            b += ['*(%s *)(r10 %d) = %s4' % (sz, o, R[sz]), 'r2 = *(%s *)(r10 %d)' % (sz, o), 'r4 += r2']
            b.append(st(sz, 10, o, o * 3))
        b += list(extra) + ['%0 = r4']
        return prog(name, b)
    out.append(stackprog('stack_small', [('u64', -8), ('u32', -12), ('u16', -14), ('u8', -15), ('u8', -16), ('u64', -16)]))
    # deepest access is a byte at -13: fpb_offset = 8, so some offsets fall below x27
    out.append(stackprog('stack_odd_bottom', [('u64', -8), ('u8', -13), ('u16', -10), ('u8', -9), ('u32', -12)]))
    out.append(stackprog('stack_deep', [('u64', -8), ('u32', -4), ('u16', -2), ('u8', -1), ('u64', -256), ('u64', -264),
                                         ('u32', -300), ('u16', -302), ('u8', -303), ('u64', -480), ('u64', -512),
                                         ('u8', -511), ('u16', -510), ('u32', -508)]))
    out.append(stackprog('stack_mid', [('u64', -8), ('u64', -136), ('u32', -140), ('u16', -142), ('u8', -143), ('u64', -152)]))
    # the stack only through a copy of r10: find_fpb_offset() finds no fp access -> x27 = fp - 0
    b = ['r4 = *(u64 *)(%[p] + 0)', 'r1 = r10', 'r1 += -64']
    for sz, o in (('u64', 0), ('u32', 8), ('u16', 12), ('u8', 14), ('u64', 56), ('u64', 16)):
        b += ['*(%s *)(r1 + %d) = %s4' % (sz, o, R[sz]), 'r2 = *(%s *)(r1 + %d)' % (sz, o), 'r4 += r2', st(sz, 1, o, 5)]
    b += ['r5 = r10', 'r2 = *(u64 *)(r5 - 8)', 'r4 += r2'] if False else []
    b += ['%0 = r4']
    out.append(prog('stack_fp_copy', b))
    return out

def prog_big(name, body):
    return '''SEC("tc")
int %s(struct __sk_buff *skb)
{
	__u32 key = 0;
	void *big = bpf_map_lookup_elem(&bigmap, &key);
	__u64 ret;

	if (!big)
		return 0;
	asm volatile(
%s
	: "=r"(ret) : [big]"r"(big)
	: "r0", "r1", "r2", "r3", "r4", "r5", "memory");
	return ret;
}
''' % (name, '\n'.join('\t"%s\\n"' % l for l in body))

HDR = '''// SPDX-License-Identifier: GPL-2.0
// GT-MCPU: v1
/* %s
 * Generated by gen.py: BPF inline asm, so that clang emits exactly these
 * forms; instructions clang 14 cannot assemble are raw .long pairs.
 * Inputs are map values the verifier cannot know. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* inputs/outputs in an array map value (not globals: BPF_PROG_TEST_RUN
 * leaves them zero, which is fine, the verifier cannot know them) */
struct io { __u64 in[4]; __u64 out[4]; };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io);
} iomap SEC(".maps");
%s
'''
TAIL = '\nchar __license[] SEC("license") = "GPL";\n'
open('alu.c', 'w').write(HDR % ('ALU64/ALU32 register and immediate forms, byte swaps, 64-bit constants.', '') + '\n'.join(gen_alu()) + TAIL)
open('jmp.c', 'w').write(HDR % ('Conditional jumps (64/32-bit, reg/imm), goto, loops, exit in the middle.', '') + '\n'.join(gen_jmp()) + TAIL)
open('mem.c', 'w').write(HDR % ('Loads/stores/immediate stores through a pointer and on the stack.', '''
struct big { char b[40000]; };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big);
} bigmap SEC(".maps");
''') + '\n'.join(gen_mem()) + TAIL)
