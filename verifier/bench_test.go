// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"testing"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/scenarios"
)

// BenchmarkRewrite rewrites the largest test program (classes.bpf.o's
// jumps, 161 instructions; maps.bpf.o's helpers with calls and inlined
// lookups).
func BenchmarkRewrite(b *testing.B) {
	for _, c := range []struct{ obj, prog string }{{"classes.bpf.o", "jumps"}, {"maps.bpf.o", "helpers"}, {"ctx.bpf.o", "skb_fields"}} {
		b.Run(c.prog, func(b *testing.B) {
			var fx *Fixture
			for _, f := range loadFixtures(b) {
				if f.Program == c.prog {
					fx = f
				}
			}
			set, err := scenarios.LoadELF("../live/testdata/" + c.obj)
			if err != nil {
				b.Fatal(err)
			}
			f := fx.Facts()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Rewrite(set, c.prog, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRewrite61 rewrites, with 6.1 facts, the largest 6.1 capture
// programs: alu64_imm (the most instructions) and callbacks (bpf_loop
// inlined, three functions).
func BenchmarkRewrite61(b *testing.B) {
	for _, name := range []string{"alu64_imm", "callbacks"} {
		b.Run(name, func(b *testing.B) {
			c, err := capture.Load("../testdata/captures/arm64-6.1-src/" + map[string]string{"alu64_imm": "alu", "callbacks": "calls"}[name] + "/" + name)
			if err != nil {
				b.Fatal(err)
			}
			obj, err := captureObject(c)
			if err != nil {
				b.Fatal(err)
			}
			set, err := scenarios.LoadELF(obj)
			if err != nil {
				b.Fatal(err)
			}
			f, err := FactsFromCapture(c)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Rewrite(set, name, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
