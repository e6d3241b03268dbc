// Package disasm decodes and prints arm64 and x86-64 machine code as GNU
// objdump (binutils 2.40) does, so that jitscope's listings match
// `bpftool prog dump jited`, `objdump -D` and the listings quoted in kernel
// commit messages character for character.
//
// Decoding starts from golang.org/x/arch; where x/arch and objdump disagree,
// or where x/arch refuses an encoding objdump knows, small table-driven
// overlays keyed by encoding masks take over. The expected texts in
// testdata come from objdump itself, never from this package.
package disasm
