// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

var (
	flagN    = flag.Int("difftest.n", 0, "programs TestDifferential generates (default 300, or $JITSCOPE_DIFFTEST_N)")
	flagSeed = flag.Uint64("difftest.seed", 1, "first seed of TestDifferential's corpus")
	flagOne  = flag.Int64("difftest.only", -1, "run only this seed and print its listing")
)

// corpusSize: -difftest.n, else $JITSCOPE_DIFFTEST_N, else 300 (about
// 20 s on two cores).
func corpusSize() int {
	if *flagN > 0 {
		return *flagN
	}
	if v, err := strconv.Atoi(os.Getenv("JITSCOPE_DIFFTEST_N")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 60
	}
	return 300
}

// supported gives the optional features each profile's kernel accepts,
// from the kernel sources:
//
//   - Atomics: x86-64 5.12 ("bpf: Add instructions for atomic_[cmp]xchg"
//     and the fetch series), arm64 5.18 ("bpf, arm64: Support more atomic
//     operations"); 5.10 has only BPF_XADD;
//   - CPUv4: 6.6 on both;
//   - Gotol: 6.6, and Debian's 6.1.176 x86-64 JIT (linux-source-6.1
//     arch/x86/net/bpf_jit_comp.c: case BPF_JMP32 | BPF_JA); not the
//     6.1 arm64 JIT;
//   - SubprogTailCalls: x86-64 since 5.10 (seed 001's series), arm64 from
//     bpf-next of June 2022 (6.0: "bpf, arm64: Keep tail call count across
//     bpf2bpf calls"); the 5.10 verifier allows them on x86-64 only;
//   - AX: every JIT maps BPF_REG_AX (arm64 x9, x86-64 r11);
//   - AcqRel: 6.15 on both;
//   - Nospec: 5.14 (f5e81d111750 "bpf: Introduce BPF nospec instruction
//     for mitigating Spectre v4"; in 5.10 stable from 5.10.56, after the
//     5.10.13 the x86-64 v5.10 profile models).
func supported(p *jit.Profile) Feature {
	switch p.Arch + ":" + kernel.Arch(p.Name) {
	case "arm64:v5.10":
		return AX
	case "arm64:bpf-next-2022-06", "arm64:v6.1":
		return Atomics | SubprogTailCalls | AX | Nospec
	case "x86_64:v5.10", "x86_64:bpf-next-2020-07":
		return SubprogTailCalls | AX
	case "x86_64:v6.1":
		return Atomics | Gotol | SubprogTailCalls | AX | Nospec
	}
	return AllFeatures
}

// kernelProfiles are the profiles that model a kernel (the x86-64
// "counterexample" profiles are deliberately broken layouts).
var kernelProfiles = []struct {
	arch kernel.Arch
	name string
}{
	{kernel.ARM64, "v5.10"}, {kernel.ARM64, "bpf-next-2022-06"}, {kernel.ARM64, "v6.1"}, {kernel.ARM64, "v6.18"},
	{kernel.X86_64, "v5.10"}, {kernel.X86_64, "bpf-next-2020-07"}, {kernel.X86_64, "v6.1"}, {kernel.X86_64, "v6.18"},
}

// variant is a profile with a kernel configuration or CPU the defaults do
// not have, as a placement's config would set it.
type variant struct {
	arch   kernel.Arch
	name   string
	label  string
	config map[string]string
}

// variants exercise the code the profiles' defaults do not emit: arm64
// LL/SC atomics (no LSE) and BTI landing pads, x86-64 shifts without BMI2,
// ENDBR (IBT: the tail call offset grows by 4) and tail calls through a
// plain "jmp *%rcx" rather than a retpoline.
var variants = []variant{
	{kernel.ARM64, "v6.1", "no-lse", map[string]string{"CONFIG_ARM64_LSE_ATOMICS": "n"}},
	{kernel.ARM64, "v6.18", "no-lse", map[string]string{"CONFIG_ARM64_LSE_ATOMICS": "n"}},
	{kernel.ARM64, "v6.18", "bti", map[string]string{"CONFIG_ARM64_BTI_KERNEL": "y"}},
	{kernel.X86_64, "v6.18", "no-bmi2", map[string]string{"cpu:bmi2": "n"}},
	{kernel.X86_64, "v6.1", "ibt", map[string]string{"CONFIG_X86_KERNEL_IBT": "y"}},
	{kernel.X86_64, "v6.18", "ibt", map[string]string{"CONFIG_X86_KERNEL_IBT": "y"}},
	{kernel.X86_64, "v5.10", "no-retpoline", map[string]string{"CONFIG_RETPOLINE": "n"}},
	{kernel.X86_64, "v6.1", "no-retpoline", map[string]string{"CONFIG_RETPOLINE": "n"}},
}

// target is what TestDifferential runs a case on.
type target struct {
	name   string
	p      *jit.Profile
	config map[string]string // the placement configuration to give the set
	every  int               // run on every n-th seed
}

func targets(t *testing.T) []target {
	var ts []target
	for _, p := range profiles(t) {
		ts = append(ts, target{name: string(p.Arch) + "/" + p.Name, p: p, every: 1})
	}
	for _, v := range variants {
		p, err := jit.LookupProfile(v.arch, v.name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, target{name: string(v.arch) + "/" + v.name + "+" + v.label, p: p, config: v.config, every: 4})
	}
	return ts
}

func profiles(t *testing.T) []*jit.Profile {
	var ps []*jit.Profile
	for _, kp := range kernelProfiles {
		p, err := jit.LookupProfile(kp.arch, kp.name)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// result of one case on one profile.
type result struct {
	refused  bool   // the profile refused the set, as expected
	expected string // the kernel differs from the interpreter here too
	problem  string // a mismatch (or an unexpected refusal)
}

// check runs case c on profile p0, with config as the set's placement
// configuration when non-nil, and compares.
func check(c *Case, p0 *jit.Profile, config map[string]string) result {
	set := c.Set
	if config != nil {
		set.Placement(p0.Arch).Config = config
	}
	p := Profile(set, p0)
	want := supported(p)
	uses, err := SetFeatures(set, p)
	if err != nil {
		return result{problem: fmt.Sprintf("load: %v", err)}
	}
	for name, u := range uses {
		if u != c.Uses[name] {
			return result{problem: fmt.Sprintf("generator: %s uses %v, the generator recorded %v", name, u, c.Uses[name])}
		}
	}
	imgs, err := Compile(set, p)
	var unsupported []string
	for name, u := range uses {
		if u&^want != 0 {
			unsupported = append(unsupported, fmt.Sprintf("%s uses %v", name, u&^want))
		}
	}
	if err != nil {
		// The refusal must be about an instruction the kernel lacks.
		if f, ok := RefusedFor(set, p, err); ok && f&^want != 0 {
			return result{refused: true}
		}
		return result{problem: fmt.Sprintf("compile: %v (features %v)", err, c.Features())}
	}
	if len(unsupported) > 0 {
		var f Feature
		for _, u := range uses {
			f |= u &^ want
		}
		return result{problem: fmt.Sprintf("the JIT accepted what the kernel refuses: %s", strings.Join(unsupported, "; "))}
	}
	cfg := InterpConfig(p)
	w := RunInterp(set, p, cfg)
	g := RunJIT(set, p, imgs, 0)
	d := Diff(w, g)
	if d == "" {
		return result{}
	}
	if why := expectedDiff(set, p, w); why != "" {
		return result{expected: why}
	}
	return result{problem: d}
}

// expectedDiff explains a difference the kernel itself has, or returns "".
//
// Before 5.19 the x86-64 JIT reloads the tail call count for a bpf-to-bpf
// call from rbp - (stack_depth + 8) with the verifier's unrounded stack
// depth (5.10 update_stack_depth records -off as is), while the prologue
// pushed it at rbp - round_up(stack_depth, 8) - 8: with a stack depth that
// is not a multiple of 8 the callee starts from bytes of the caller's
// stack ("bpf, x86: Fix tail call count offset calculation on bpf2bpf
// call", 5.19; selftest tailcall_bpf2bpf6). The interpreter passes the
// caller's count. Such a difference is the kernel's when the same program
// with rounded stack depths (what 5.11+ verifiers record) runs as the
// interpreter says.
func expectedDiff(set *kernel.Set, p *jit.Profile, w *Outcome) string {
	if !p.StackDepthUnrounded || p.Arch != kernel.X86_64 {
		return ""
	}
	imgs := map[string]*jit.Image{}
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, p.Arch, kernel.Options{Layout: p.Layout})
		if err != nil {
			return ""
		}
		if imgs[pr.Name], err = jit.Compile(l, p); err != nil {
			return ""
		}
	}
	if Diff(w, RunJIT(set, p, imgs, 0)) != "" {
		return ""
	}
	return "x86-64 before 5.19 reloads the tail call count for bpf-to-bpf calls from rbp-(stack_depth+8) with an unrounded stack depth"
}

func TestDifferential(t *testing.T) {
	n := corpusSize()
	first := *flagSeed
	if *flagOne >= 0 {
		first, n = uint64(*flagOne), 1
	}
	start := time.Now()
	var runs, refused, expected, bad atomic.Int64
	t.Run("profiles", func(t *testing.T) {
		for _, tg := range targets(t) {
			p := tg.p
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				reported := 0
				for i := 0; i < n; i++ {
					seed := first + uint64(i)
					if seed%uint64(tg.every) != 0 && *flagOne < 0 {
						continue
					}
					c := Generate(seed, Options{})
					r := check(c, p, tg.config)
					switch {
					case r.refused:
						refused.Add(1)
					case r.expected != "":
						expected.Add(1)
						t.Logf("seed %d: expected difference: %s", seed, r.expected)
					case r.problem != "":
						bad.Add(1)
						if reported < 3 || *flagOne >= 0 {
							t.Errorf("seed %d (features %v) on %s:\n%s\n%s", seed, c.Features(), tg.name, r.problem, Listing(c.Set, p))
						} else if reported == 3 {
							t.Errorf("... more mismatches (run with -difftest.only=SEED for a listing)")
						}
						if reported > 3 {
							t.Logf("seed %d: %s", seed, strings.SplitN(r.problem, "\n", 2)[0])
						}
						reported++
					default:
						runs.Add(1)
					}
				}
			})
		}
	})
	t.Logf("%d programs x 8 profiles (and %d configuration variants on every 4th) in %v: %d compared equal, %d refused as expected, %d differ as the kernel does, %d mismatches",
		n, len(variants), time.Since(start).Round(time.Millisecond), runs.Load(), refused.Load(), expected.Load(), bad.Load())
}

const scenarioSteps = 50_000

// TestScenarios runs every built-in scenario (among them the kernel
// selftests tailcall1-6, tailcall_bpf2bpf_* and the hierarchy tests) on
// the interpreter and on every profile's machine code.
func TestScenarios(t *testing.T) {
	for _, info := range scenarios.Builtins() {
		for _, p0 := range profiles(t) {
			t.Run(info.Name+"/"+string(p0.Arch)+"/"+p0.Name, func(t *testing.T) {
				set, err := scenarios.Builtin(info.Name)
				if err != nil {
					t.Fatal(err)
				}
				p := Profile(set, p0)
				uses, err := SetFeatures(set, p)
				if err != nil {
					t.Fatal(err)
				}
				var unsupported Feature
				for _, u := range uses {
					unsupported |= u &^ supported(p)
				}
				imgs, err := Compile(set, p)
				switch {
				case err != nil && IsRefusal(err) && unsupported != 0:
					if f, ok := RefusedFor(set, p, err); !ok || f&^supported(p) == 0 {
						t.Fatalf("refused for an instruction the kernel has: %v", err)
					}
					t.Skipf("refused as expected (%v): %v", unsupported, err)
				case err != nil:
					t.Fatal(err)
				case unsupported != 0:
					t.Fatalf("the JIT accepted a program using %v, which the kernel refuses", unsupported)
				}
				// The hierarchy selftests do not finish before 6.11
				// (every subprogram call starts a new chain of 33 tail
				// calls): stop them early.
				cfg := InterpConfig(p)
				cfg.StepLimit = scenarioSteps
				w := RunInterp(set, p, cfg)
				g := RunJIT(set, p, imgs, scenarioSteps)
				if d := Diff(w, g); d != "" {
					if why := expectedDiff(set, p, w); why != "" {
						t.Skipf("differs as the kernel does: %s", why)
					}
					t.Errorf("%s", d)
				}
			})
		}
	}
}
