// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/jitscope/jitscope/internal/readfile"
	"github.com/jitscope/jitscope/kernel"
)

// Load loads any target the CLI accepts: a built-in scenario name, a
// scenario file, or a BPF ELF object. For a directory (a kernel capture) it
// returns a *NeedCapture error, which the caller hands to the capture loader.
// A built-in name wins over a file of the same name; write "./NAME" for the
// file.
func Load(target string) (*kernel.Set, error) {
	if IsBuiltin(target) {
		return Builtin(target)
	}
	fi, err := os.Stat(target)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a built-in scenario (see `jitscope list`), and no such file", target)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if fi.IsDir() {
		return nil, &NeedCapture{Dir: target}
	}
	data, err := readfile.Read(target, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if bytes.HasPrefix(data, []byte("\x7fELF")) {
		return loadELF(target, data)
	}
	return Parse(target, data)
}
