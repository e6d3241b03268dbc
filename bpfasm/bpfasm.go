// SPDX-License-Identifier: GPL-2.0-only

// Package bpfasm parses and prints eBPF assembly in the textual syntax that
// `llvm-objdump -d` and `bpftool prog dump xlated` (the kernel's
// kernel/bpf/disasm.c) print, converting to and from
// github.com/cilium/ebpf/asm instructions.
//
// Parse accepts one instruction per line, for example
//
//	entry:
//		w2 = 0
//		*(u8 *)(r10 - 1) = r2
//		if r2 >= r3 goto +5
//		r7 = map[jmp_table]
//		call bpf_tail_call
//		call subprog_tail
//		exit
//
// # Syntax
//
// Registers are r0-r10 (64-bit) and w0-w10 (32-bit: ALU32 and JMP32 classes).
// Immediates are decimal or 0x hexadecimal, optionally negative; 32-bit
// immediates must fit in int32, except that hexadecimal values up to
// 0xffffffff are taken as 32-bit patterns in 32-bit operations, jumps and
// stores narrower than u64 (the kernel prints jump immediates that way).
// Memory offsets ("(r10 - 4)", "(r10 -4)", "(r1 +0x10)", "(r1)") and jump
// offsets are signed 16-bit.
//
//	r1 = r2   r1 = 5   r1 += r2   r1 -= 5   *= /= %= &= |= ^= <<= >>= s>>=
//	r1 s/= r2   r1 s%= 5                       signed div/mod (cpuv4)
//	r1 = -r1                                   negation
//	r1 = (s8)r2   (s16)   (s32)                sign-extending move (cpuv4)
//	w1 = w2   w1 += 1   w1 = -w1   w1 = (s8)w2 the same in ALU32
//	r1 = be16 r1   be32 be64 le16 le32 le64    endianness (ALU class)
//	r1 = bswap16 r1   bswap32 bswap64          byte swap (ALU64 class, cpuv4)
//	r1 = 0x123456789 ll                        64-bit immediate; "ll" is optional
//	                                           when the value needs 64 bits
//	r1 = map[NAME]                             LoadMapPtr(r1, 0).WithReference(NAME)
//	r1 = map[NAME][0]+4                        LoadMapValue(r1, 0, 4).WithReference(NAME)
//	r1 = map[NAME] + 4   r1 = map_value(NAME) + 4
//	r1 = map[fd:3]   r1 = map[fd:3][0]+4       by file descriptor, no reference
//	r0 = *(u32 *)(r10 - 4)   u8 u16 u32 u64    load
//	r1 = *(s8 *)(r2 + 0)   s16 s32             sign-extending load (cpuv4)
//	*(u8 *)(r10 - 1) = r2                      store register
//	*(u32 *)(r1 + 0) = 5                       store immediate
//	r0 = *(u16 *)skb[12]   r0 = *(u16 *)skb[r1 + 4]   legacy packet loads
//	lock *(u32 *)(r1 + 0) += r2   &= |= ^=     atomic operation
//	r2 = atomic_fetch_add((u64 *)(r1 + 0), r2) and, or, xor; also atomic64_fetch_*
//	r2 = xchg_64(r1 + 0, r2)   w2 = xchg32_32(r1 + 0, w2)   atomic[64]_xchg(...)
//	r0 = cmpxchg_64(r1 + 0, r0, r2)   w0 = cmpxchg32_32(r1 + 0, w0, w2)
//	r0 = atomic[64]_cmpxchg((u64 *)(r1 + 0), r0, r2)
//	w0 = load_acquire((u8 *)(r1 + 0))   store_release((u64 *)(r1 + 0), r2)
//	goto +3   goto -2   goto pc+3   goto LABEL   goto <LABEL>
//	if r1 == r2 goto +5   == != > >= < <= s> s>= s< s<= &   (w registers: JMP32)
//	gotol +70000   gotol LABEL                 JMP32 JA with 32-bit offset (cpuv4)
//	may_goto +5                                JCOND may_goto
//	call 12   call bpf_tail_call   call bpf_tail_call#12   call unknown#212
//	call subprog   call pc+2   call pc-5       bpf-to-bpf call
//	call kernel-function#1234                  kfunc call by BTF id
//	exit
//
// A numeric jump or call target may be followed by an annotation "<NAME>",
// as llvm-objdump prints them ("goto +3 <LBB0_4>"); it becomes the
// instruction's reference but is not checked.
//
// Comments start with ';', "//", or '#' at the start of a line or after white
// space.
//
// # Labels
//
// A label ("name:", "<name>:", llvm-objdump's "0000000000000000 <name>:" or
// bpftool's "int name(struct xdp_md * ctx):") marks the next instruction with
// WithSymbol(name); "name: r0 = 0" labels an instruction on the same line.
// Jumps to labels are resolved by Parse to numeric offsets (counted in 8-byte
// slots, so that a 64-bit immediate load counts twice) and keep
// WithReference(label). Calls to labels are emitted as asm.Call.Label(name):
// Constant -1 and a Reference, which asm.Instructions.Marshal resolves. If an
// instruction has several labels, the first is its symbol and references to
// the others are rewritten to it.
//
// # Pasted tool output
//
// Output of llvm-objdump (instruction index, raw bytes, relocation lines,
// function headers, section headers) and of bpftool or the verifier log
// (index and "(b7)" opcode prefix, "goto pc+N", "call bpf_tail_call#12") can
// be pasted unchanged. From llvm-objdump the raw bytes tell helper calls from
// bpf-to-bpf and kfunc calls (all print as "call IMM"), and lines it prints as
// "<unknown>" (32-bit atomics and cpuv4 instructions in LLVM 14) are decoded
// from the raw bytes. Relocations are applied: R_BPF_64_64 against a map
// turns "r1 = 0 ll" into map[NAME], against a section symbol (".bss",
// ".data", ".rodata") into map[SECTION][0]+IMM; R_BPF_64_32 turns "call -1"
// into a call to the named function, or for a section symbol to the labelled
// instruction the immediate points at. Sections are concatenated in the order
// they appear.
//
// # Printing
//
// Format prints a single instruction in llvm-objdump syntax; FormatProgram
// prints a whole program with its labels. Both produce text that Parse reads
// back into the same instructions.
package bpfasm

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cilium/ebpf/asm"
)

// Error is a parse error. Error() renders it as "file:line: msg".
type Error struct {
	File string // file name given to Parse
	Line int    // line number in File (counting from Parse's firstLine)
	Col  int    // 1-based byte column of the offending token, 0 if unknown
	Msg  string // what is wrong
}

func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// helperNames maps BPF helper IDs to kernel names ("bpf_tail_call") and back.
var (
	helperByID   = map[asm.BuiltinFunc]string{}
	helperByName = map[string]asm.BuiltinFunc{}
)

func init() {
	for i := asm.BuiltinFunc(0); ; i++ {
		s := i.String()
		if !strings.HasPrefix(s, "Fn") {
			break
		}
		name := helperKernelName(s)
		helperByID[i] = name
		helperByName[name] = i
	}
}

// helperKernelName converts cilium's "FnGetPrandomU32" into the kernel's
// "bpf_get_prandom_u32".
func helperKernelName(s string) string {
	s = strings.TrimPrefix(s, "Fn")
	var b strings.Builder
	b.WriteString("bpf_")
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HelperName returns the kernel name of helper fn ("bpf_tail_call"), or "" if
// fn is not a known Linux helper.
func HelperName(fn asm.BuiltinFunc) string {
	return helperByID[fn]
}

// HelperByName returns the helper with kernel name name ("bpf_tail_call").
func HelperByName(name string) (asm.BuiltinFunc, bool) {
	fn, ok := helperByName[name]
	return fn, ok
}

// Atomic operations whose constants cilium does not export.
var (
	atomicLoadAcquire  = asm.LoadAcquire(0, 0, asm.Word, 0).OpCode.AtomicOp()
	atomicStoreRelease = asm.StoreRelease(0, 0, asm.Word, 0).OpCode.AtomicOp()
)
