package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// text is a sparse byte store standing in for the kernel's text.
type text map[uint64]byte

func (t text) ReadText(addr uint64, n int) ([]byte, error) {
	b := make([]byte, n)
	for i := range b {
		v, ok := t[addr+uint64(i)]
		if !ok {
			return nil, fmt.Errorf("unmapped %#x", addr+uint64(i))
		}
		b[i] = v
	}
	return b, nil
}

func (t text) WriteText(addr uint64, b []byte) error {
	for i, c := range b {
		t[addr+uint64(i)] = c
	}
	return nil
}

// site lays out seed 001's fragment: bypass at 0xffffffffc0513aa1 jumping
// to 0xffffffffc0513ab4, target nop5 at 0xffffffffc0513aaf, X86_TAIL_CALL_OFFSET 11.
func site(t *testing.T) (text, *PokeSite) {
	tx := text{}
	for a := uint64(0xffffffffc0513aa1); a < 0xffffffffc0513ab7; a++ {
		tx[a] = 0xcc
	}
	tx.WriteText(0xffffffffc0513aa1, []byte{0xe9, 0x0e, 0x00, 0x00, 0x00})
	tx.WriteText(0xffffffffc0513aaf, Nop5)
	return tx, &PokeSite{Func: "prog", BypassAddr: 0xffffffffc0513aa1, TargetAddr: 0xffffffffc0513aaf, Map: "jmp_table", AdjOff: 11}
}

func states(steps []PokeStep) string {
	var b strings.Builder
	for i, s := range steps {
		if i == 0 {
			b.WriteByte(byte(s.From))
		}
		if s.Site == "synchronize_rcu" {
			b.WriteString("~")
			continue
		}
		b.WriteString("->")
		b.WriteByte(byte(s.To))
	}
	return b.String()
}

func TestPokeTransitions(t *testing.T) {
	tx, p := site(t)
	const f, f2, f3 = 0xffffffffc0600000, 0xffffffffc0700000, 0xffffffffc0800000
	if st, _, err := p.State(tx); err != nil || st != PokeC {
		t.Fatalf("initial state %c, %v; want C (seed 001's bytes)", st, err)
	}
	cases := []struct {
		name     string
		old, new uint64
		want     string
		target   uint64
	}{
		{"first install C->D->B", 0, f, "C->D->B", f + 11},
		{"update B(f)->B(f')", f, f2, "B->B", f2 + 11},
		{"remove B->D, grace period, ->C", f2, 0, "B->D~->C", 0},
		{"install again C->D->B", 0, f3, "C->D->B", f3 + 11},
	}
	for _, c := range cases {
		steps, err := p.Update(tx, c.old, c.new)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := states(steps); got != c.want {
			t.Errorf("%s: states %s, want %s", c.name, got, c.want)
		}
		st, to, _ := p.State(tx)
		if to != c.target {
			t.Errorf("%s: tail call goes to %#x, want %#x (state %c)", c.name, to, c.target, st)
		}
	}
	// After the first install the bypass is a nop5 and the target a jmp
	// into the program past its prologue: seed 001's "jmpq becomes nop5".
	b, _ := tx.ReadText(p.BypassAddr, 5)
	if string(b) != string(Nop5) {
		t.Errorf("bypass in state B = % x, want nop5", b)
	}
}

func TestPokeRefusesStateA(t *testing.T) {
	tx, p := site(t)
	if err := p.ForceState(tx, PokeA, 0); !errors.Is(err, ErrForbiddenState) {
		t.Errorf("ForceState(A) = %v, want ErrForbiddenState", err)
	}
	// A site found in state A (nop, unwind, nop) is refused too.
	tx.WriteText(p.BypassAddr, Nop5)
	if _, err := p.Update(tx, 0, 0xffffffffc0600000); !errors.Is(err, ErrForbiddenState) {
		t.Errorf("Update from state A = %v, want ErrForbiddenState", err)
	}
	// ForceState can show B, C and D.
	for _, s := range []PokeState{PokeB, PokeC, PokeD} {
		if err := p.ForceState(tx, s, 0xffffffffc0600000); err != nil {
			t.Fatalf("ForceState(%c): %v", s, err)
		}
		if got, _, _ := p.State(tx); got != s {
			t.Errorf("ForceState(%c) left state %c", s, got)
		}
	}
}

func TestPokeBusy(t *testing.T) {
	tx, p := site(t)
	// Updating as if f were installed while the slot is empty: the target
	// holds a nop5, not "jmp f", so the kernel's memcmp fails (-EBUSY).
	if _, err := p.Update(tx, 0xffffffffc0600000, 0xffffffffc0700000); err == nil || !strings.Contains(err.Error(), "-EBUSY") {
		t.Errorf("Update with a wrong old target: %v, want -EBUSY", err)
	}
}
