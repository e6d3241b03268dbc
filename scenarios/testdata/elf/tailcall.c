// SPDX-License-Identifier: GPL-2.0-only
// A program like seed 000's: a bpf2bpf call into a subprogram that tail-calls
// classifier_0 through a prog array whose slot 0 is filled statically.
// Rebuild with `go generate ./scenarios/` (see gen.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int done = 0;

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	done = 1;
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = { [0] = (void *)&classifier_0 },
};

static __noinline int subprog_tail(struct __sk_buff *skb)
{
	volatile int ret = 1;

	bpf_tail_call_static(skb, &jmp_table, 0);
	return ret;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	volatile char arr[1] = {};

	return subprog_tail(skb);
}

char _license[] SEC("license") = "GPL";
