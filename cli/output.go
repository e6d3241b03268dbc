// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/jitscope/jitscope/internal/atomicfile"
)

// writeOutput writes what write produces to path: "-" is standard output;
// a file is written atomically through internal/atomicfile, and an
// existing file is replaced only with force.
func writeOutput(env Env, path string, force bool, write func(io.Writer) error) error {
	if path == "-" {
		bw := bufio.NewWriter(env.Stdout)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	f, err := atomicfile.Create(path, atomicfile.Options{Force: force})
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return f.Commit()
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
