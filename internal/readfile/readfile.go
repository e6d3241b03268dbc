// SPDX-License-Identifier: GPL-2.0-only

// Package readfile reads the files a user hands jitscope (scenarios, BPF
// objects, capture files) without trusting what the name points at: a
// device (/dev/zero), a FIFO or a file larger than any real input is
// refused with a reason instead of hanging or filling memory.
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxSize is the largest input read: four times the scenario of the
// biggest program `jitscope gen` makes (16M instructions, about 240 MB).
const MaxSize = 1 << 30

// ErrNotRegular and ErrTooLarge are the refusals (wrapped with details).
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("too large")
)

// Read returns the contents of the regular file at path (symbolic links
// followed), at most max bytes (0: MaxSize). Errors do not repeat the path:
// callers name it, with the place they read it for.
func Read(path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = MaxSize
	}
	// Stat before opening: opening a FIFO blocks until a writer comes.
	if fi, err := os.Stat(path); err != nil {
		return nil, unwrap(err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))
	}
	// O_NONBLOCK: should the name be swapped for a FIFO meanwhile, the
	// open still returns (and the check below refuses it).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, unwrap(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, unwrap(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, fi.Size(), max)
	}
	// The size may change while it is read (a file being written).
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, unwrap(err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
