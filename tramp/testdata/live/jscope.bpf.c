// SPDX-License-Identifier: GPL-2.0-only
// A tcp_congestion_ops in BPF: its struct_ops trampolines are the ones
// this machine's kernel builds (it refuses fentry/fexit). See capture.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char _license[] SEC("license") = "GPL";

SEC("struct_ops")
__u32 BPF_PROG(js_ssthresh, struct sock *sk) { return 10; }

SEC("struct_ops")
void BPF_PROG(js_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) { }

SEC("struct_ops")
__u32 BPF_PROG(js_undo_cwnd, struct sock *sk) { return 10; }

SEC(".struct_ops")
struct tcp_congestion_ops jscope = {
	.ssthresh = (void *)js_ssthresh,
	.cong_avoid = (void *)js_cong_avoid,
	.undo_cwnd = (void *)js_undo_cwnd,
	.name = "jscope",
};
