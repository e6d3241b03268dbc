// SPDX-License-Identifier: GPL-2.0-only

package machine

import (
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/verifier"
)

// eth_type_trans on the loopback device (dev_addr zero): protocol as
// stored and pkt_type by destination.
func TestEthTypeTrans(t *testing.T) {
	frame := func(dest []byte, proto ...byte) []byte {
		f := make([]byte, 64)
		copy(f, dest)
		copy(f[12:], proto)
		return f
	}
	for _, c := range []struct {
		name  string
		frame []byte
		proto uint16
		ptype uint64
	}{
		{"default frame", defaultPacket, 0x0008, packetOtherhost},
		{"to the device", frame([]byte{0, 0, 0, 0, 0, 0}, 0x86, 0xdd), 0xdd86, packetHost},
		{"broadcast", frame([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x08, 0x06), 0x0608, packetBroadcast},
		{"multicast", frame([]byte{0x01, 0, 0x5e, 0, 0, 1}, 0x08, 0x00), 0x0008, packetMulticast},
		{"802.3 raw", frame(nil, 0x00, 0x40, 0xff, 0xff), 0x0100, packetHost},
		{"802.2", frame(nil, 0x00, 0x40, 0xaa, 0xaa), 0x0400, packetHost},
	} {
		proto, ptype := ethTypeTrans(c.frame)
		if proto != c.proto || ptype != c.ptype {
			t.Errorf("%s: protocol %#04x pkt_type %d, want %#04x %d", c.name, proto, ptype, c.proto, c.ptype)
		}
	}
}

// verifiedKernel lays out obj's programs as the v6.18 facts rewrite
// them, on the kernel memory model.
func verifiedKernel(t *testing.T, obj string) (*Kernel, verifier.Facts) {
	t.Helper()
	set, err := scenarios.Load(obj)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := verifier.FactsFor(kernel.X86_64, "v6.18")
	if !ok {
		t.Fatal("no v6.18 facts")
	}
	f = verifier.Offline(f)
	var progs []*verifier.Program
	for _, p := range set.Programs {
		vp, err := verifier.Rewrite(set, p.Name, f)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, vp)
	}
	vs, err := verifier.ToSet(set, kernel.X86_64, progs, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jit.LookupProfile(kernel.X86_64, "v6.18")
	if err != nil {
		t.Fatal(err)
	}
	imgs := map[string]*jit.Image{}
	for _, prog := range vs.Programs {
		l, err := kernel.Load(vs, prog.Name, kernel.X86_64, p.LoadOptions())
		if err != nil {
			t.Fatal(err)
		}
		if imgs[prog.Name], err = jit.Compile(l, p); err != nil {
			t.Fatal(err)
		}
	}
	k, err := New(vs, kernel.X86_64, p.Layout, imgs, Options{Verified: &f})
	if err != nil {
		t.Fatal(err)
	}
	return k, f
}

func (k *Kernel) mustLoad(t *testing.T, what string, addr uint64, size int) uint64 {
	t.Helper()
	v, err := k.Mem.Load(addr, size)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// The struct sk_buff of a tc program's test run, at the 6.18 offsets:
// the whole frame (is_l2), protocol and pkt_type from eth_type_trans, the
// loopback device, data_end in the cb.
func TestKernelModelSkb(t *testing.T) {
	k, f := verifiedKernel(t, "../../live/testdata/ctx.bpf.o")
	at := func(key string) uint64 { return k.CtxAddr + uint64(f.Layout[key]) }
	for _, c := range []struct {
		key  string
		addr uint64
		size int
		want uint64
	}{
		{"len", at("sk_buff.len"), 4, 64},
		{"data", at("sk_buff.data"), 8, k.PacketAddr},
		{"protocol", at("sk_buff.protocol"), 2, 0x0008},
		{"pkt_type", at("sk_buff.__pkt_type_offset"), 1, packetOtherhost},
		{"mark", at("sk_buff.mark"), 4, 0},
		{"cb data_end", at("sk_buff.cb") + uint64(f.Layout["bpf_skb_data_end.data_end"]), 8, k.PacketAddr + 64},
	} {
		if got := k.mustLoad(t, c.key, c.addr, c.size); got != c.want {
			t.Errorf("sk_buff %s = %#x, want %#x", c.key, got, c.want)
		}
	}
	dev := k.mustLoad(t, "dev", at("sk_buff.dev"), 8)
	if got := k.mustLoad(t, "ifindex", dev+uint64(f.Layout["net_device.ifindex"]), 4); got != loopbackIfindex {
		t.Errorf("skb->dev->ifindex = %d, want the loopback's %d", got, loopbackIfindex)
	}
}

// The struct xdp_buff of an XDP test run: data_meta = data, rx queue 0
// of the loopback device; and the per-CPU area its per-CPU array
// lookup reaches through gs:this_cpu_off.
func TestKernelModelXdp(t *testing.T) {
	k, f := verifiedKernel(t, "../../live/testdata/xdp.bpf.o")
	at := func(key string) uint64 { return k.CtxAddr + uint64(f.Layout[key]) }
	if d, e, m := k.mustLoad(t, "data", at("xdp_buff.data"), 8), k.mustLoad(t, "data_end", at("xdp_buff.data_end"), 8),
		k.mustLoad(t, "data_meta", at("xdp_buff.data_meta"), 8); d != k.PacketAddr || e != d+64 || m != d {
		t.Errorf("data %#x data_end %#x data_meta %#x, want %#x, +64, = data", d, e, m, k.PacketAddr)
	}
	rxq := k.mustLoad(t, "rxq", at("xdp_buff.rxq"), 8)
	dev := k.mustLoad(t, "rxq->dev", rxq+uint64(f.Layout["xdp_rxq_info.dev"]), 8)
	if got := k.mustLoad(t, "ifindex", dev+uint64(f.Layout["net_device.ifindex"]), 4); got != loopbackIfindex {
		t.Errorf("rxq->dev->ifindex = %d", got)
	}
	if q := k.mustLoad(t, "queue_index", rxq+uint64(f.Layout["xdp_rxq_info.queue_index"]), 4); q != 0 {
		t.Errorf("queue_index = %d", q)
	}
	// pcpu's element 1: pptrs[1] is a __percpu address whose CPU 0 copy
	// is ValueAddr + 8, where a helper would find it too.
	m := k.Maps["pcpu"]
	pp := k.mustLoad(t, "pptrs[1]", m.Addr+uint64(f.Layout["bpf_array.pptrs"])+8, 8)
	if pp+k.PerCPUOffset != m.ValueAddr+8 || k.PerCPUOffset == 0 {
		t.Errorf("pptrs[1] %#x + offset %#x is not the value at %#x", pp, k.PerCPUOffset, m.ValueAddr+8)
	}
}
