// SPDX-License-Identifier: GPL-2.0-only
// A call of a kernel function (kfunc): its BTF id and address come from
// the running kernel, which a BPF object does not have.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("tc")
int prog(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}
