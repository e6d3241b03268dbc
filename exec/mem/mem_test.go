package mem

import (
	"errors"
	"testing"
)

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
