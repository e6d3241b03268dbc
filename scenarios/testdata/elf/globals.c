// SPDX-License-Identifier: GPL-2.0-only
// Global data in .data, .rodata and .bss, a chain of subprograms with
// assorted prototypes, and an XDP program. Rebuild with
// `go generate ./scenarios/` (see gen.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 limit = 7;
__u64 counter = 3;
__u32 hits;

struct pair {
	__u32 a, b;
};

static __noinline __u64 leaf(__u64 x, const __u32 *p)
{
	return x * *p + limit;
}

static __noinline unsigned int middle(struct pair *pr, int n)
{
	return leaf(pr->a + n, &pr->b) + hits;
}

static __noinline void bump(void)
{
	hits++;
}

SEC("xdp")
int prog_xdp(struct xdp_md *ctx)
{
	struct pair pr = { .a = ctx->ingress_ifindex, .b = 2 };

	bump();
	counter += middle(&pr, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
