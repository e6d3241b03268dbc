// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/kernel"
)

// encodeCases hold sequences the x86_64 captures do not show, with the
// bytes read off the kernel source of each version (the function named in
// the case) and the text GNU objdump 2.40 prints for them; TestEncode
// checks the bytes, and the text where objdump is installed.
var encodeCases = []struct {
	name    string
	profile string
	config  map[string]string
	insns   []kernel.Insn
	hex     string
	objdump []string
}{
	{"shift by register, 5.10-6.1: push rcx", "v6.1", nil,
		[]kernel.Insn{insn(0x6f, 1, 2, 0, 0)}, // r1 <<= r2
		"51 48 89 f1 48 d3 e7 59",
		[]string{"push %rcx", "mov %rsi,%rcx", "shl %cl,%rdi", "pop %rcx"}},
	{"shift of rcx, 6.1: through r11", "v6.1", nil,
		[]kernel.Insn{insn(0x7f, 4, 2, 0, 0)}, // r4 >>= r2
		"49 89 cb 51 48 89 f1 49 d3 eb 59 4c 89 d9",
		[]string{"mov %rcx,%r11", "push %rcx", "mov %rsi,%rcx", "shr %cl,%r11", "pop %rcx", "mov %r11,%rcx"}},
	{"shift of rcx, 6.18 without BMI2: no push", "v6.18", map[string]string{"cpu:bmi2": "n"},
		[]kernel.Insn{insn(0x7f, 4, 2, 0, 0)},
		"49 89 cb 48 89 f1 49 d3 eb 4c 89 d9",
		[]string{"mov %rcx,%r11", "mov %rsi,%rcx", "shr %cl,%r11", "mov %r11,%rcx"}},
	{"shlx (emit_shiftx, BMI2)", "v6.18", nil,
		[]kernel.Insn{insn(0x6f, 1, 2, 0, 0)},
		"c4 e2 c9 f7 ff",
		[]string{"shlx %rsi,%rdi,%rdi"}},
	{"shrx 32-bit, extended source", "v6.18", nil,
		[]kernel.Insn{insn(0x7c, 1, 7, 0, 0)}, // w1 >>= w7
		"c4 e2 13 f7 ff",
		[]string{"shrx %r13d,%edi,%edi"}},
	{"BPF_NOSPEC: lfence", "v6.1", nil,
		[]kernel.Insn{insn(0xc2, 0, 0, 0, 0)},
		"0f ae e8",
		[]string{"lfence"}},
	{"BPF_PROBE_MEM, 6.1: src + off >= TASK_SIZE_MAX + PAGE_SIZE", "v6.1", nil,
		[]kernel.Insn{insn(0x39, 0, 1, 8, 0)}, // r0 = *(u64 *)(r1 + 8), probed
		"49 bb 08 00 00 00 00 80 00 00 4c 39 df 72 0c 49 89 fb 49 81 c3 08 00 00 00 73 04 31 c0 eb 04 48 8b 47 08",
		[]string{"movabs $0x800000000008,%r11", "cmp %r11,%rdi", "jb X", "mov %rdi,%r11", "add $0x8,%r11", "jae X", "xor %eax,%eax", "jmp X", "mov 0x8(%rdi),%rax"}},
	{"BPF_PROBE_MEM, 6.18: below VSYSCALL_ADDR", "v6.18", nil,
		[]kernel.Insn{insn(0x39, 0, 1, 8, 0)},
		"49 c7 c2 00 00 60 ff 49 89 fb 49 81 c3 08 00 00 00 4d 29 d3 49 ba 00 00 a0 00 00 80 00 00 4d 39 d3 77 04 31 c0 eb 04 48 8b 47 08",
		[]string{"mov $0xffffffffff600000,%r10", "mov %rdi,%r11", "add $0x8,%r11", "sub %r10,%r11", "movabs $0x800000a00000,%r10", "cmp %r10,%r11", "ja X", "xor %eax,%eax", "jmp X", "mov 0x8(%rdi),%rax"}},
	{"mul, 5.10: through rax and r11", "v5.10", nil,
		[]kernel.Insn{insn(0x2f, 1, 2, 0, 0)}, // r1 *= r2
		"50 52 49 89 fb 48 89 f0 49 f7 e3 5a 48 89 c7 58",
		[]string{"push %rax", "push %rdx", "mov %rdi,%r11", "mov %rsi,%rax", "mul %r11", "pop %rdx", "mov %rax,%rdi", "pop %rax"}},
	{"mul, 6.1: imul", "v6.1", nil,
		[]kernel.Insn{insn(0x2f, 1, 2, 0, 0)},
		"48 0f af fe",
		[]string{"imul %rsi,%rdi"}},
	{"div, 5.10: r11 for everything", "v5.10", nil,
		[]kernel.Insn{insn(0x37, 1, 0, 0, 7)}, // r1 /= 7
		"50 52 49 c7 c3 07 00 00 00 48 89 f8 31 d2 49 f7 f3 49 89 c3 5a 58 4c 89 df",
		[]string{"push %rax", "push %rdx", "mov $0x7,%r11", "mov %rdi,%rax", "xor %edx,%edx", "div %r11", "mov %rax,%r11", "pop %rdx", "pop %rax", "mov %r11,%rdi"}},
	{"BPF_XADD, 5.10", "v5.10", nil,
		[]kernel.Insn{insn(0xdb, 1, 2, 0, 0)}, // lock *(u64 *)(r1 + 0) += r2
		"f0 48 01 77 00",
		[]string{"lock add %rsi,0x0(%rdi)"}},
	{"atomic fetch and, 6.1: cmpxchg loop", "v6.1", nil,
		[]kernel.Insn{insn(0xdb, 1, 2, 0, 0x51)}, // r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)
		"49 89 c2 48 8b 47 00 49 89 c3 49 21 f3 f0 4c 0f b1 5f 00 75 ee 48 89 c6 4c 89 d0",
		[]string{"mov %rax,%r10", "mov 0x0(%rdi),%rax", "mov %rax,%r11", "and %rsi,%r11", "lock cmpxchg %r11,0x0(%rdi)", "jne X", "mov %rax,%rsi", "mov %r10,%rax"}},
	{"store immediate", "v6.1", nil,
		[]kernel.Insn{insn(0x62, 10, 0, -4, 5)}, // *(u32 *)(r10 - 4) = 5
		"c7 45 fc 05 00 00 00",
		[]string{"movl $0x5,-0x4(%rbp)"}},
	{"store byte of sil (REX for the low byte)", "v6.1", nil,
		[]kernel.Insn{insn(0x73, 1, 2, 300, 0)}, // *(u8 *)(r1 + 300) = r2
		"40 88 b7 2c 01 00 00",
		[]string{"mov %sil,0x12c(%rdi)"}},
}

func TestEncode(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			l := loaded(0, false, append(tc.insns, insn(0x95, 0, 0, 0, 0))...)
			for k, v := range tc.config {
				l.Config[k] = v
			}
			fi := compile(t, tc.profile, l).Funcs[0]
			got := fi.Code[fi.BPFOffsets[0]:fi.BPFOffsets[len(tc.insns)]]
			want := unhex(t, tc.hex)
			if !bytes.Equal(got, want) {
				t.Errorf("Compile(%s, %s) = %s, want %s", tc.name, tc.profile, spaced(got), spaced(want))
			}
			text, err := objdumpText(want)
			if err != nil {
				t.Skip(err)
			}
			if strings.Join(text, "; ") != strings.Join(tc.objdump, "; ") {
				t.Errorf("objdump(%s) = %q, want %q", tc.hex, text, tc.objdump)
			}
		})
	}
}

// objdumpText disassembles b with GNU objdump, one normalized instruction
// text per line, branch targets as X.
func objdumpText(b []byte) ([]string, error) {
	path, err := exec.LookPath("objdump")
	if err != nil {
		return nil, fmt.Errorf("objdump not installed")
	}
	f, err := os.CreateTemp("", "jitscope-x86-*.bin")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	f.Write(b)
	f.Close()
	out, err := exec.Command(path, "-D", "-b", "binary", "-m", "i386:x86-64", f.Name()).Output()
	if err != nil {
		return nil, err
	}
	var text []string
	for _, line := range strings.Split(string(out), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) < 3 || !strings.HasSuffix(cols[0], ":") {
			continue
		}
		fields := strings.Fields(cols[2])
		if len(fields) == 2 && strings.HasPrefix(fields[0], "j") {
			fields[1] = "X"
		}
		text = append(text, strings.Join(fields, " "))
	}
	return text, nil
}
