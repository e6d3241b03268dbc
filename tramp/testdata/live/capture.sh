#!/bin/sh
# Capture the struct_ops trampolines of the running x86-64 kernel (root).
# Needs clang, bpftool, libbpf headers and the kernel's BTF.
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
clang -g -O2 -target bpf -I"$tmp" -c jscope.bpf.c -o "$tmp/jscope.bpf.o"
bpftool struct_ops register "$tmp/jscope.bpf.o"
trap 'bpftool struct_ops unregister name jscope; rm -rf "$tmp"' EXIT
(cd ../../.. && go test ./tramp -run TestCaptureLive -capture -count=1)
