package a64

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

var diffN = flag.Int("diffn", 4000, "random instructions TestDifferentialQEMU runs")

// randomTemplates are encoding classes (mask, value) random words are drawn
// from: everything Step implements that user-mode Linux can run alone.
var randomTemplates = []struct{ mask, value uint32 }{
	{0x1f800000, 0x11000000}, // add/sub immediate
	{0x1f800000, 0x12000000}, // logical immediate
	{0x1f800000, 0x12800000}, // move wide
	{0x1f800000, 0x13000000}, // bitfield
	{0x1f000000, 0x0a000000}, // logical shifted register
	{0x1f200000, 0x0b000000}, // add/sub shifted register
	{0x1f200000, 0x0b200000}, // add/sub extended register
	{0x1fe00000, 0x1a800000}, // conditional select
	{0x5fe00000, 0x1ac00000}, // data-processing (2 source)
	{0x5fe0fc00, 0x5ac00000}, // data-processing (1 source), opcode2 = 0
	{0x1f000000, 0x1b000000}, // data-processing (3 source)
	{0x3f000000, 0x39000000}, // load/store unsigned immediate
	{0x3f200000, 0x38000000}, // load/store imm9
	{0x3f200c00, 0x38200800}, // load/store register offset
	{0x3e000000, 0x28000000}, // load/store pair
	{0x3f200c00, 0x38200000}, // LSE atomics
	{0x3f800000, 0x08800000}, // ldar/stlr/cas (o2 = 1)
	{0xff000010, 0x54000000}, // b.cond
	{0x7e000000, 0x34000000}, // cbz/cbnz
	{0x7e000000, 0x36000000}, // tbz/tbnz
}

func randomValue(rng *rand.Rand) uint64 {
	switch rng.IntN(8) {
	case 0:
		return uint64(rng.IntN(64))
	case 1:
		return -uint64(rng.IntN(64))
	case 2:
		return [...]uint64{0, 1 << 63, 1<<63 - 1, 1 << 31, 1<<31 - 1, 0xffffffff, 0x100000000, ^uint64(0)}[rng.IntN(8)]
	case 3:
		return uint64(rng.Uint32())
	}
	return rng.Uint64()
}

// randomCase draws one implemented word and a state it can run in, runs it
// on the emulator and writes the emulator's result as the expectation.
func randomCase(t *testing.T, rng *rand.Rand, n int) *fixtureCase {
	for {
		tp := randomTemplates[rng.IntN(len(randomTemplates))]
		w := tp.value | rng.Uint32()&^tp.mask
		d, err := decode(w, textBase)
		if err != nil {
			continue
		}
		switch d.op {
		case opBcond, opCBZ, opCBNZ:
			w = w&^(0x7ffff<<5) | uint32(rng.IntN(33)-16)&0x7ffff<<5
		case opTBZ, opTBNZ:
			w = w&^(0x3fff<<5) | uint32(rng.IntN(33)-16)&0x3fff<<5
		case opSTXR, opLDlit:
			continue
		}
		d, _ = decode(w, textBase)
		var x [31]uint64
		for i := range x {
			x[i] = randomValue(rng)
		}
		sp := uint64(spInit)
		nzcv := uint64(rng.IntN(16)) << 28
		switch d.op {
		case opLDimm, opSTimm, opLDreg, opSTreg, opLDP, opSTP, opLDXR, opLDAR, opSTLR, opCAS, opLSE, opSWP:
			base := dataBase + 0x2000 + 16*uint64(rng.IntN(0x100))
			if d.rn == rSP {
				sp = base
			} else {
				x[d.rn] = base
			}
			if d.op == opLDreg || d.op == opSTreg {
				if d.rm < 31 && d.rm != d.rn {
					x[d.rm] = uint64(8 * (rng.IntN(64) - 32))
				}
			}
		}
		init := []string{fmt.Sprintf("sp=%#x", sp), "nzcv=" + flagLetters(nzcv)}
		for i, v := range x {
			init = append(init, fmt.Sprintf("x%d=%#x", i, v))
		}
		fc := &fixtureCase{name: fmt.Sprintf("random %d: %#08x", n, w), words: []uint32{w}, asm: fmt.Sprintf(".inst %#08x", w), init: init}
		c, m, ok := setupCase(t, fc)
		if !ok {
			t.FailNow()
		}
		c.Trace = true
		e, err := c.Step(m)
		if err != nil {
			continue // the emulator faults: nothing qemu-user could compare
		}
		for _, r := range e.Regs {
			switch r.Reg {
			case "pc":
				fc.expect = append(fc.expect, fmt.Sprintf("pc=.%+d", int64(r.New-textBase)))
			case "nzcv":
				fc.expect = append(fc.expect, "nzcv="+flagLetters(r.New))
			default:
				fc.expect = append(fc.expect, fmt.Sprintf("%s=%#x", r.Reg, r.New))
			}
		}
		for _, wr := range e.Writes {
			b, _ := m.ReadBytes(wr.Addr, len(wr.New))
			var v [8]byte
			copy(v[:], b)
			fc.expect = append(fc.expect, fmt.Sprintf("m%d@%#x=%#x", len(b), wr.Addr, binary.LittleEndian.Uint64(v[:])))
		}
		return fc
	}
}

func flagLetters(v uint64) string {
	b := []byte("nzcv")
	for i := range 4 {
		if v>>(31-i)&1 != 0 {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// TestDifferentialQEMU runs random instructions of every implemented class
// on the emulator and under qemu-aarch64 and compares the results.
func TestDifferentialQEMU(t *testing.T) {
	needOracleTools(t)
	rng := rand.New(rand.NewPCG(uint64(*diffN), 7))
	var fcs []*fixtureCase
	for i := range *diffN {
		fcs = append(fcs, randomCase(t, rng, i))
	}
	checked, skipped, bad := runOracle(t, fcs)
	for i, b := range bad {
		if i == 40 {
			t.Errorf("... and %d more", len(bad)-i)
			break
		}
		t.Error(b)
	}
	t.Logf("%d random instructions compared with qemu-aarch64, %d differ; not comparable: %v", checked, len(bad), skipped)
}
