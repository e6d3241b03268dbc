// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/atomicfile"
)

// genUsage is the usage text of `jitscope gen`, printed by cli.go's help.
const genUsage = `  jitscope gen --insns N -o FILE [flags]   write a generated scenario (.scn) of N BPF instructions
      --seed S                  which program (default 1); the same seed gives the same program
      --no-tail-calls           leave tail calls out (arm64 v5.10 refuses them with bpf2bpf calls)
      --no-calls                one function, no bpf2bpf calls
      --funcs F                 F functions of about the same size (x86 kernels before 5.11
                                give up on functions over about 40k instructions)
      --force                   overwrite FILE if it exists
`

// cmdGen writes a generated program as a scenario file: `jitscope gen
// --insns 1000000 -o big.scn`, then `jitscope dump big.scn`. The file is
// written through internal/atomicfile: a temporary file beside FILE renamed
// into place, so FILE is never left half-written; an existing FILE is kept
// unless --force.
func cmdGen(args []string, env Env) error {
	fs := newFlagSet("gen", env)
	insns := fs.Int("insns", 0, "")
	out := fs.String("o", "", "")
	seed := fs.Uint64("seed", 1, "")
	noTail := fs.Bool("no-tail-calls", false, "")
	noCalls := fs.Bool("no-calls", false, "")
	funcs := fs.Int("funcs", 0, "")
	force := fs.Bool("force", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("gen", err)
	}
	if len(pos) > 0 {
		return usagef("gen takes no arguments, got %q (the file goes after -o)", pos[0])
	}
	if *insns <= 0 {
		return usagef("gen: --insns N is required (N >= %d)", gen.MinInsns)
	}
	if *out == "" {
		return usagef("gen: -o FILE is required")
	}
	// The destination is checked before the work: a refusal is immediate.
	f, err := atomicfile.Create(*out, atomicfile.Options{Force: *force})
	if err != nil {
		return err
	}
	defer f.Abort()
	data, err := gen.Scenario(gen.Options{Insns: *insns, Seed: *seed, NoTailCalls: *noTail, NoCalls: *noCalls, Funcs: *funcs})
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d BPF instructions (seed %d), %d bytes\n", *out, *insns, *seed, len(data))
	return nil
}
