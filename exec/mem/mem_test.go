// SPDX-License-Identifier: GPL-2.0-only

package mem

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

// TestAgainstBytes holds the page-at-a-time and one-lookup paths of Load,
// Store, ReadBytes, Fetch and WriteBytes to a plain byte slice, at every
// offset around page boundaries, every size, with the journal on and off.
func TestAgainstBytes(t *testing.T) {
	const base, size = 0xffffffffc0000000, 3 * PageSize
	m := New(0)
	if err := m.Map("text", base, size, Read|Write|Exec); err != nil {
		t.Fatal(err)
	}
	ref := make([]byte, size)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		off := uint64(rng.Intn(size - 64))
		if i%2 == 0 { // near a page boundary
			off = uint64(PageSize*(1+rng.Intn(2)) - 9 + rng.Intn(18))
		}
		m.Record(i%3 == 0)
		switch rng.Intn(4) {
		case 0:
			sz := []int{1, 2, 4, 8}[rng.Intn(4)]
			v := rng.Uint64()
			if err := m.Store(base+off, sz, v); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < sz; k++ {
				ref[int(off)+k] = byte(v >> (8 * k))
			}
		case 1:
			b := make([]byte, 1+rng.Intn(40))
			rng.Read(b)
			if err := m.WriteBytes(base+off, b); err != nil {
				t.Fatal(err)
			}
			copy(ref[off:], b)
		case 2:
			sz := []int{1, 2, 4, 8}[rng.Intn(4)]
			got, err := m.Load(base+off, sz)
			var want uint64
			for k := sz - 1; k >= 0; k-- {
				want = want<<8 | uint64(ref[int(off)+k])
			}
			if err != nil || got != want {
				t.Fatalf("Load(%#x, %d) = %#x, %v; want %#x", off, sz, got, err, want)
			}
		case 3:
			n := 1 + rng.Intn(40)
			got, err := m.ReadBytes(base+off, n)
			got2, err2 := m.Fetch(base+off, n)
			if err != nil || err2 != nil || !bytes.Equal(got, ref[off:int(off)+n]) || !bytes.Equal(got2, got) {
				t.Fatalf("ReadBytes/Fetch(%#x, %d) = %x / %x, %v %v; want %x", off, n, got, got2, err, err2, ref[off:int(off)+n])
			}
		}
	}
	// Undoing the journal of the recorded writes puts their old bytes back.
	m.Record(true)
	m.Journal()
	before, _ := m.ReadBytes(base+PageSize-4, 8)
	m.Store(base+PageSize-4, 8, 0)
	m.Undo(m.Journal())
	if after, _ := m.ReadBytes(base+PageSize-4, 8); !bytes.Equal(before, after) {
		t.Errorf("undo across a page: %x, want %x", after, before)
	}
}

func TestLoadStoreLittleEndian(t *testing.T) {
	m := New(0)
	if err := m.Map("data", 0xffff800000001000, 0x2000, Read|Write); err != nil {
		t.Fatal(err)
	}
	if err := m.Store(0xffff800000001ffe, 8, 0x1122334455667788); err != nil {
		t.Fatalf("store across a page boundary: %v", err)
	}
	v, err := m.Load(0xffff800000001ffe, 8)
	if err != nil || v != 0x1122334455667788 {
		t.Fatalf("Load = %#x, %v; want 0x1122334455667788", v, err)
	}
	b, _ := m.Load(0xffff800000001ffe, 1)
	if b != 0x88 {
		t.Errorf("low byte = %#x, want 0x88 (little endian)", b)
	}
}

func TestFaults(t *testing.T) {
	m := New(0)
	m.Map("text", 0x1000, 0x1000, Read|Exec)
	m.Map("data", 0x2000, 0x1000, Read|Write)
	cases := []struct {
		name string
		err  error
		why  string
	}{
		{"unmapped read", func() error { _, e := m.Load(0x9000, 4); return e }(), "unmapped"},
		{"write to text", m.Store(0x1000, 4, 1), "not permitted"},
		{"fetch from data", func() error { _, e := m.Fetch(0x2000, 4); return e }(), "not permitted"},
		{"read past the end", func() error { _, e := m.Load(0x2ffe, 4); return e }(), "crosses the end"},
	}
	for _, c := range cases {
		var f *Fault
		if !errors.As(c.err, &f) || !contains(f.Why, c.why) {
			t.Errorf("%s: error %v, want a Fault saying %q", c.name, c.err, c.why)
		}
	}
	if err := m.Map("overlap", 0x2800, 0x1000, Read); err == nil {
		t.Errorf("overlapping map accepted")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestLimit(t *testing.T) {
	m := New(2 * PageSize)
	if err := m.Map("a", 0, 2*PageSize, Read); err != nil {
		t.Fatal(err)
	}
	if err := m.Map("b", 0x10000, 1, Read); !errors.Is(err, ErrLimit) {
		t.Errorf("map beyond the limit: %v, want ErrLimit", err)
	}
}

func TestJournalUndo(t *testing.T) {
	m := New(0)
	m.Map("d", 0x1000, 0x1000, Read|Write|Exec)
	m.Store(0x1000, 8, 0xaaaa)
	m.Record(true)
	m.Store(0x1000, 4, 0x12345678)
	m.WriteBytes(0x1004, []byte{1, 2})
	j := m.Journal()
	if len(j) != 2 {
		t.Fatalf("journal has %d writes, want 2", len(j))
	}
	m.Undo(j)
	if v, _ := m.Load(0x1000, 8); v != 0xaaaa {
		t.Errorf("after Undo: %#x, want 0xaaaa", v)
	}
}
