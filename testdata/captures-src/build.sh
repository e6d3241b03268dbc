#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Compiles the BPF sources of the 6.1 kernel captures into the objects the
# verifier model's tests rewrite and compare with each capture's xlated.bin
# (go generate ./verifier). The .o files are committed so that tests need
# no clang. Flags as the captures were built (capture.json program.build:
# clang 14, -O2 -g -target bpf, -mcpu from each arm64 source's
# "// GT-MCPU:" line, v1 for the shared qemu sources). An argument names
# another output directory (the verifier tests rebuild into one to check
# that the committed objects are these sources').
set -e
out=$(mkdir -p "${1:-$(dirname "$0")/obj}" && cd "${1:-$(dirname "$0")/obj}" && pwd)
cd "$(dirname "$0")"
arch=$(uname -m)
build() { # source, object, mcpu
	clang -O2 -g -target bpf -mcpu="$3" -I"/usr/include/$arch-linux-gnu" \
		-fdebug-prefix-map="$(pwd)"=testdata/captures-src -c "$1" -o "$2"
	# Reproducible objects: no build directory in the DWARF.
	llvm-strip --strip-debug --keep-section=.BTF --keep-section=.BTF.ext "$2" 2>/dev/null || true
}
for f in arm64/*.c; do
	mcpu=$(sed -n 's,^// GT-MCPU: *\(v[0-9]\).*,\1,p' "$f")
	build "$f" "$out/arm64-$(basename "$f" .c).bpf.o" "${mcpu:-v1}"
done
for f in qemu/*.c; do
	build "$f" "$out/qemu-$(basename "$f" .c).bpf.o" v1
done
