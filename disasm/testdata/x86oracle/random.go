package main

import "math/rand"

var (
	legacyPrefixes = []byte{0x66, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x64, 0x65, 0x67, 0x26, 0x36}
	// common are opcodes the BPF JIT emits, to weigh the draw towards them.
	common = [][]byte{{0x01}, {0x29}, {0x21}, {0x09}, {0x31}, {0x39}, {0x85}, {0x89}, {0x8b}, {0x88}, {0x8d},
		{0x81}, {0x83}, {0xc1}, {0xd1}, {0xd3}, {0xf7}, {0xc7}, {0xc6}, {0x87}, {0x63}, {0x69}, {0x6b},
		{0x0f, 0xb6}, {0x0f, 0xb7}, {0x0f, 0xbe}, {0x0f, 0xbf}, {0x0f, 0xc1}, {0x0f, 0xb1}, {0x0f, 0xaf},
		{0x0f, 0x1f}, {0x0f, 0xae}, {0xff}, {0x8f}, {0xb8}, {0xe8}, {0xe9}, {0xeb}, {0x74}, {0x0f, 0x84}}
	twoByte = []byte{0x05, 0x0b, 0x0d, 0x18, 0x19, 0x1d, 0x1e, 0x1f, 0x31, 0xa2, 0xa3, 0xa4, 0xa5, 0xab, 0xac, 0xad,
		0xae, 0xaf, 0xb0, 0xb1, 0xb3, 0xb6, 0xb7, 0xb8, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc7, 0xc8, 0xcd}
)

// randomInsn returns an instruction-shaped random byte string: maybe
// prefixes, maybe REX, an opcode (one-byte, two-byte, VEX or one the JIT
// uses) and random ModRM/SIB/displacement/immediate bytes.
func randomInsn(r *rand.Rand) []byte {
	var b []byte
	if r.Intn(4) == 0 {
		b = append(b, legacyPrefixes[r.Intn(len(legacyPrefixes))])
		if r.Intn(6) == 0 {
			b = append(b, legacyPrefixes[r.Intn(len(legacyPrefixes))])
		}
	}
	if r.Intn(2) == 0 {
		b = append(b, 0x40|byte(r.Intn(16)))
	}
	switch x := r.Intn(20); {
	case x < 7:
		b = append(b, byte(r.Intn(256)))
	case x < 10:
		b = append(b, 0x0f, twoByte[r.Intn(len(twoByte))])
		if b[len(b)-1] >= 0xc8 && b[len(b)-1] <= 0xcf {
			b[len(b)-1] = 0xc8 + byte(r.Intn(8))
		}
	case x < 11:
		b = append(b, 0x0f, byte(r.Intn(256)))
	case x < 13:
		// VEX: mostly the BMI maps and opcodes.
		if r.Intn(4) == 0 {
			b = append(b, 0xc5, byte(r.Intn(256)))
		} else {
			mm := byte(2)
			if r.Intn(4) == 0 {
				mm = 3
			}
			b = append(b, 0xc4, byte(r.Intn(8))<<5|mm, byte(r.Intn(256))&^4)
		}
		b = append(b, []byte{0xf0, 0xf2, 0xf3, 0xf5, 0xf6, 0xf7}[r.Intn(6)])
	default:
		b = append(b, common[r.Intn(len(common))]...)
	}
	n := r.Intn(9)
	for i := 0; i < n; i++ {
		b = append(b, byte(r.Intn(256)))
	}
	return b
}

func randomCode(r *rand.Rand, n int) []byte {
	var code []byte
	for i := 0; i < n; i++ {
		code = append(code, randomInsn(r)...)
	}
	// A tail of NOPs lets the last random instruction complete.
	for i := 0; i < 16; i++ {
		code = append(code, 0x90)
	}
	return code
}
