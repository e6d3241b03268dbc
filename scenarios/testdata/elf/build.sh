#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rebuilds the BPF objects the ELF tests load (needs clang and libbpf-dev).
# Run through `go generate ./scenarios/`.
set -e
cd "$(dirname "$0")"
for c in *.c; do
	clang -O2 -g -target bpf -mcpu=v3 -I"/usr/include/$(uname -m)-linux-gnu" -fdebug-prefix-map="$(pwd)"=. -c "$c" -o "${c%.c}.o"
done
