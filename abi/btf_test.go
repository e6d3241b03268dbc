// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestFromBTF reads a prototype from raw BTF made with cilium/ebpf's
// builder: integers, a pointer, __int128, a 12-byte struct and a packed
// one (a member below its natural alignment), through typedefs and const.
func TestFromBTF(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	s64 := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	i128 := &btf.Int{Name: "__int128", Size: 16, Encoding: btf.Signed}
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	s12 := &btf.Struct{Name: "s12", Size: 12, Members: []btf.Member{
		{Name: "a", Type: u32}, {Name: "b", Type: u32, Offset: 32}, {Name: "c", Type: u32, Offset: 64}}}
	packed := &btf.Struct{Name: "p", Size: 9, Members: []btf.Member{
		{Name: "c", Type: u8}, {Name: "v", Type: s64, Offset: 8}}}
	proto := &btf.FuncProto{Return: s64, Params: []btf.FuncParam{
		{Name: "x", Type: &btf.Typedef{Name: "u32", Type: u32}},
		{Name: "ptr", Type: &btf.Pointer{Target: &btf.Const{Type: s12}}},
		{Name: "wide", Type: i128},
		{Name: "s", Type: s12},
		{Name: "pk", Type: packed},
	}}
	fn := &btf.Func{Name: "traced", Type: proto, Linkage: btf.GlobalFunc}
	b, err := btf.NewBuilder([]btf.Type{fn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "traced.btf")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := FromBTF(path, "traced")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "long traced(u32 x, struct s12 *ptr, __int128 wide, struct s12 s, struct p pk)"; got != want {
		t.Errorf("prototype %q, want %q", got, want)
	}
	var kinds []string
	for _, a := range f.Args {
		kinds = append(kinds, map[Kind]string{Int: "int", Int128: "int128", Pointer: "ptr", Struct: "struct"}[a.Type.Kind])
	}
	if got := strings.Join(kinds, " "); got != "int ptr int128 struct struct" {
		t.Errorf("kinds %s", got)
	}
	if s := f.Args[3].Type; s.Size != 12 || s.Align != 4 || s.Unaligned {
		t.Errorf("struct s12: size %d align %d unaligned %v, want 12 4 false", s.Size, s.Align, s.Unaligned)
	}
	if p := f.Args[4].Type; !p.Unaligned || !p.Packed || p.Align != 1 {
		t.Errorf("struct p: %+v, want packed and unaligned", p)
	}
	// SysV passes the packed struct in memory.
	c, err := Place(f, SysV)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Args[4].Memory || !c.Args[4].OnStack() {
		t.Errorf("packed struct placed %s, want class MEMORY on the stack", c.Args[4].Where())
	}
	if _, err := FromBTF(path, "missing"); err == nil || !strings.Contains(err.Error(), `no function "missing"`) {
		t.Errorf("missing function: %v", err)
	}
}

// TestFromKernelBTF reads a 12-argument kernel function from the running
// kernel's BTF when there is one.
func TestFromKernelBTF(t *testing.T) {
	const vmlinux = "/sys/kernel/btf/vmlinux"
	if _, err := os.Stat(vmlinux); err != nil {
		t.Skipf("no kernel BTF (%v)", err)
	}
	f, err := FromBTF(vmlinux, "bpf_trace_run11")
	if err != nil {
		t.Skipf("this kernel's BTF: %v", err)
	}
	if len(f.Args) != 12 || f.Args[0].Type.Kind != Pointer || f.Args[11].Type.Size != 8 {
		t.Errorf("bpf_trace_run11: %s", f)
	}
	c, _ := Place(f, SysV)
	if got := c.Args[11].Where(); got != "sp+40" {
		t.Errorf("bpf_trace_run11 arg 12 at %s, want sp+40", got)
	}
}

// TestFromBTFObject reads a BPF subprogram's prototype from the BTF of an
// ELF object (testdata/traced.bpf.o, source beside it).
func TestFromBTFObject(t *testing.T) {
	f, err := FromBTF("testdata/traced.bpf.o", "traced")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "int traced(struct s12 *p, long a, unsigned char b, unsigned short c, void *d)"; got != want {
		t.Errorf("prototype %q, want %q", got, want)
	}
	c, _ := Place(f, AAPCS64)
	if got := c.Args[4].Where(); got != "x4" {
		t.Errorf("d at %s, want x4", got)
	}
}
