// SPDX-License-Identifier: GPL-2.0-only

package machine_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// freplaceKernel JITs seed 004's freplace-tailcall with profile p and
// the kernel configuration cfg, and lays it out.
func freplaceKernel(t *testing.T, arch kernel.Arch, p *jit.Profile, cfg map[string]string) (*machine.Kernel, *jit.Profile, map[string]*jit.Image) {
	t.Helper()
	set, err := scenarios.Builtin("freplace-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		set.Placements = map[kernel.Arch]*kernel.Placement{arch: {Config: cfg}}
		p = p.WithConfig(cfg)
	}
	imgs := map[string]*jit.Image{}
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, arch, p.LoadOptions())
		if err != nil {
			t.Fatal(err)
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			t.Fatal(err)
		}
		imgs[pr.Name] = img
	}
	k, err := machine.New(set, arch, p.Layout, imgs, machine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return k, p, imgs
}

func lookupProfile(t *testing.T, arch kernel.Arch, name string) *jit.Profile {
	t.Helper()
	p, err := jit.LookupProfile(arch, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAttachExtension patches subprog1's entry as bpf_arch_text_poke
// does for BPF_TRAMP_REPLACE and runs dispatcher through it: x86-64's
// nop5 (after ENDBR with IBT) becomes jmp rel32, arm64's patchable-entry
// nop (after BTI) becomes b; the run then goes dispatcher -> acl ->
// acl_algo subprogram -> tail call -> acl_algo.
func TestAttachExtension(t *testing.T) {
	cases := []struct {
		arch    kernel.Arch
		profile string
		cfg     map[string]string
		siteOff uint64 // the patched instruction's offset in subprog1
	}{
		{kernel.X86_64, "v6.18", nil, 0},
		{kernel.X86_64, "v6.1", map[string]string{"CONFIG_X86_KERNEL_IBT": "y"}, 4},
		{kernel.X86_64, "v5.10", nil, 0},
		{kernel.ARM64, "v6.1", map[string]string{"CONFIG_ARM64_BTI_KERNEL": "n"}, 4},
		{kernel.ARM64, "v6.1", map[string]string{"CONFIG_ARM64_BTI_KERNEL": "y"}, 8},
		{kernel.ARM64, "v6.18", nil, 4},
	}
	for _, c := range cases {
		t.Run(string(c.arch)+"/"+c.profile, func(t *testing.T) {
			k, p, imgs := freplaceKernel(t, c.arch, lookupProfile(t, c.arch, c.profile), c.cfg)
			var sub *jit.FuncImage
			for _, f := range imgs["dispatcher"].Funcs {
				if f.Name == "subprog1" {
					sub = f
				}
			}
			rp, err := k.AttachExtension(p, "acl", "dispatcher", "subprog1")
			if err != nil {
				t.Fatal(err)
			}
			acl := k.Progs["acl"].BPFFunc
			if rp.Site != sub.Address+c.siteOff {
				t.Fatalf("patched %#x, want subprog1+%#x (%#x)", rp.Site, c.siteOff, sub.Address+c.siteOff)
			}
			code, err := k.Mem.ReadBytes(rp.Site, 5)
			if err != nil {
				t.Fatal(err)
			}
			var target uint64
			if c.arch == kernel.X86_64 {
				if code[0] != 0xe9 {
					t.Fatalf("patched % x, want jmp rel32", code)
				}
				target = rp.Site + 5 + uint64(int64(int32(binary.LittleEndian.Uint32(code[1:]))))
			} else {
				w := binary.LittleEndian.Uint32(code)
				if w>>26 != 0x05 {
					t.Fatalf("patched %#08x, want b", w)
				}
				target = rp.Site + uint64(int64(int32(w<<6))>>4)
			}
			if target != acl {
				t.Errorf("the patched branch goes to %#x, acl is at %#x", target, acl)
			}
			r, err := machine.NewRunner(k, p)
			if err != nil {
				t.Fatal(err)
			}
			cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
			if err != nil {
				t.Fatal(err)
			}
			run := r.Run(cpu, "dispatcher", machine.RunOptions{Thunks: stThunks(imgsList(imgs))})
			if run.Err != nil || run.Retval != 2 || run.TailCalls != 1 {
				t.Fatalf("run: %v, retval %d, %d tail calls", run.Err, run.Retval, run.TailCalls)
			}
			var fr, tc *trace.Event
			for i := range run.Events {
				switch e := &run.Events[i]; e.Kind {
				case trace.Freplace:
					fr = e
				case trace.TailCall:
					tc = e
				}
			}
			if fr == nil || fr.From != "dispatcher/subprog1" || fr.To != "acl" {
				t.Errorf("freplace event %+v", fr)
			}
			if tc == nil || tc.From != "acl/acl_algo" || tc.To != "acl_algo" {
				t.Errorf("tail call %+v", tc)
			}
		})
	}
	// arm64 before 6.0 has no bpf_arch_text_poke: -ENOTSUPP, nothing
	// patched.
	k, p, imgs := freplaceKernel(t, kernel.ARM64, lookupProfile(t, kernel.ARM64, "bpf-next-2022-06"), nil)
	before, _ := k.Mem.ReadBytes(imgs["dispatcher"].Funcs[1].Address, 16)
	if _, err := k.AttachExtension(p, "acl", "dispatcher", "subprog1"); !errors.Is(err, machine.ErrNoTextPoke) {
		t.Errorf("arm64 bpf-next-2022-06: %v, want -ENOTSUPP", err)
	}
	after, _ := k.Mem.ReadBytes(imgs["dispatcher"].Funcs[1].Address, 16)
	if string(before) != string(after) || len(k.Replaced) != 0 {
		t.Error("a refused attachment patched the text")
	}
}

func imgsList(m map[string]*jit.Image) []*jit.Image {
	var out []*jit.Image
	for _, i := range m {
		out = append(out, i)
	}
	return out
}
