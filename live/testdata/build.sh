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
