/* SPDX-License-Identifier: GPL-2.0-only */
/* Test objects of jitscope's live package: programs `jitscope kernel
 * verify` loads into the running kernel and compares with jitscope's JIT
 * and emulator. Values come from volatile globals so clang folds nothing
 * away; return values depend only on what the kernel's BPF_PROG_TEST_RUN
 * and jitscope's emulator both provide (the 64-byte default frame, its
 * length and protocol, maps, globals). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SEC_TC SEC("tc")
char LICENSE[] SEC("license") = "GPL";
