// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jitscope/jitscope/gen"
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
// written to a temporary file beside FILE and renamed into place, so FILE
// is never left half-written; an existing FILE is kept unless --force.
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
	data, err := gen.Scenario(gen.Options{Insns: *insns, Seed: *seed, NoTailCalls: *noTail, NoCalls: *noCalls, Funcs: *funcs})
	if err != nil {
		return usagef("%v", err)
	}
	if err := writeAtomic(*out, data, *force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d BPF instructions (seed %d), %d bytes\n", *out, *insns, *seed, len(data))
	return nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename. Without force an existing path is an error.
func writeAtomic(path string, data []byte, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: exists (use --force to overwrite it)", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		return err
	}
	if !force {
		// Refuse to replace a file that appeared meanwhile: a hard link
		// fails if the name exists.
		if err := os.Link(name, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: exists (use --force to overwrite it)", path)
			}
			return os.Rename(name, path)
		}
		return nil
	}
	return os.Rename(name, path)
}
