#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Compiles the test objects (go generate ./live); the .o files are
# committed so that tests need no clang.
set -e
cd "$(dirname "$0")"
arch=$(uname -m)
for f in *.bpf.c; do
	clang -O2 -g -target bpf -mcpu=v3 -I"/usr/include/$arch-linux-gnu" -fdebug-prefix-map="$(pwd)"=live/testdata -Wall -Werror -c "$f" -o "${f%.c}.o"
	# Reproducible objects: no build directory in the DWARF.
	llvm-strip --strip-debug --keep-section=.BTF --keep-section=.BTF.ext "${f%.c}.o" 2>/dev/null || true
done
# The x86 capture sources (testdata/captures-src/x86, written to make the
# 6.18 JIT emit every form it has; cpu v4 instructions as raw words)
# whose every rewrite jitscope's verifier model knows: sdiv/smod guards,
# cmpxchg zero-extension, map values known not NULL, the inlined
# bpf_jiffies64 and bpf_get_smp_processor_id, direct and indirect tail calls,
# every jump, may_goto (timed on x86-64), branches decided for every value.
src=../../testdata/captures-src/x86
for s in alu mem atomics calls tailcalls jmp; do
	clang -O2 -g -target bpf -mcpu=v3 -I"/usr/include/$arch-linux-gnu" -I"$src" -fdebug-prefix-map="$(cd "$src" && pwd)"=testdata/captures-src/x86 -Wall -c "$src/$s.c" -o "gt_$s.bpf.o"
	llvm-strip --strip-debug --keep-section=.BTF --keep-section=.BTF.ext "gt_$s.bpf.o" 2>/dev/null || true
done
