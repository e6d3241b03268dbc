// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

func TestLoadDefault(t *testing.T) {
	s, err := Load(scenarios.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Listings) != 2 {
		t.Fatalf("got %d listings, want 2", len(s.Listings))
	}
	a, x := s.Listings[0], s.Listings[1]
	if a.Err != nil || x.Err != nil {
		t.Fatalf("errors: %v / %v", a.Err, x.Err)
	}
	if a.Arch != kernel.ARM64 || a.Profile.Name != "bpf-next-2022-06" {
		t.Errorf("arm64 listing uses %s %s, want the scenario's placement bpf-next-2022-06", a.Arch, a.Profile.Name)
	}
	if want := x.Profiles[len(x.Profiles)-1].Name; x.Profile.Name != want {
		t.Errorf("x86 profile %s, want the newest %s", x.Profile.Name, want)
	}
	// Seed 000: entry, subprog_tail, classifier_0 with headers between.
	var names []string
	for _, f := range a.Funcs {
		names = append(names, f.Image.Name)
	}
	if got := strings.Join(names, ","); got != "entry,subprog_tail,classifier_0" {
		t.Errorf("arm64 functions %s", got)
	}
	if a.Rows[0].Kind != RowHeader || a.Line(1).Text != "paciasp" {
		t.Errorf("first rows: %+v %q", a.Rows[0], a.Line(1).Text)
	}
	// The tail call lands on classifier_0's bti j.
	var tail *Group
	for i := range a.Groups {
		if a.Groups[i].Kind == disasm.ArrowTailCall {
			tail = &a.Groups[i]
		}
	}
	if tail == nil || a.Line(tail.Target).Text != "bti j" {
		t.Fatalf("no tail call arrow landing on bti j: %+v", tail)
	}
	if r := a.Target(tail.Sources[0]); r != tail.Target {
		t.Errorf("Target(br x10) = %d, want %d", r, tail.Target)
	}
}

func TestRefusingProfileIsAValue(t *testing.T) {
	s, err := Load(scenarios.Default, Options{Profiles: map[kernel.Arch]string{kernel.ARM64: "v5.10"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Listings[0].Err == nil {
		t.Fatal("v5.10 arm64 compiled a tail call from a subprogram; the kernel refuses it")
	}
	if s.Listings[1].Err != nil {
		t.Errorf("x86 failed with the arm64 profile: %v", s.Listings[1].Err)
	}
}

func TestLinkedBPFAcrossArches(t *testing.T) {
	s, err := Load(scenarios.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, x := s.Listings[0], s.Listings[1]
	// The bpf2bpf call in entry is one BPF instruction on both.
	ra := -1
	for r := range a.Rows {
		if in, ok := a.BPFInsn(r); ok && in.Kind == kernel.FuncCall {
			ra = r
			break
		}
	}
	if ra < 0 {
		t.Fatal("no call in the arm64 listing")
	}
	rx := x.FirstRowOfBPF(a.Rows[ra].BPF)
	if rx < 0 || x.Line(rx) == nil {
		t.Fatalf("x86 has no row for arm64's BPF id %d", a.Rows[ra].BPF)
	}
	if in, _ := x.BPFInsn(rx); in.Kind != kernel.FuncCall {
		t.Errorf("x86 row %d is %v, want the call", rx, in)
	}
}

func TestSearchAndAddr(t *testing.T) {
	s, err := Load(scenarios.Default, Options{Arches: []kernel.Arch{kernel.ARM64}})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Listings[0]
	r := a.Search("bti j", 0, 1)
	if r < 0 || a.Line(r).Addr != 0xffffffc0090151f8 {
		t.Fatalf("search bti j: row %d", r)
	}
	if got := a.RowOfAddr(0xffffffc00902d2f4); got < 0 || a.Line(got).Text != "br x10" {
		t.Errorf("RowOfAddr(br x10) = %d", got)
	}
	if got := a.RowOfFunc("classifier_0"); got < 0 || a.Rows[got].Kind != RowHeader {
		t.Errorf("RowOfFunc = %d", got)
	}
}

func TestSynthetic(t *testing.T) {
	s := FromTarget(Synthetic(2000), Options{})
	for _, l := range s.Listings {
		if l.Err != nil {
			t.Fatalf("%s: %v", l.Arch, l.Err)
		}
		if len(l.Rows) < 2000 || len(l.Groups) < 200 {
			t.Errorf("%s: %d rows, %d arrow groups", l.Arch, len(l.Rows), len(l.Groups))
		}
	}
}

func BenchmarkLoadSynthetic100k(b *testing.B) {
	t := Synthetic(100000)
	for b.Loop() {
		s := FromTarget(t, Options{Arches: []kernel.Arch{kernel.ARM64}})
		if s.Listings[0].Err != nil {
			b.Fatal(s.Listings[0].Err)
		}
		s.Listings[0].Cells(0)
	}
}
