// SPDX-License-Identifier: GPL-2.0-only
// A BPF object whose subprogram an fentry program could trace: read by
// abi.FromBTF in abi/btf_test.go.
// Built with: clang -g -O2 -target bpf -c traced.bpf.c -o traced.bpf.o (Debian clang 14.0.6)
struct s12 { int a, b, c; };

__attribute__((noinline)) static int traced(struct s12 *p, long a, unsigned char b, unsigned short c, void *d)
{
	return p->a + a + b + c + (d != 0);
}

__attribute__((section("tc"), used)) int entry(void *ctx)
{
	struct s12 s = {1, 2, 3};
	return traced(&s, 4, 5, 6, ctx);
}

char _license[] __attribute__((section("license"), used)) = "GPL";
