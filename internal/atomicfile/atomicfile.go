// SPDX-License-Identifier: GPL-2.0-only

// Package atomicfile writes files the way jitscope promises to: only where
// the user asked, never over an existing file unless asked to (--force),
// and atomically: the data goes to a temporary file in the same directory,
// which is synced and then renamed into place, so the destination is
// either untouched or complete, never half-written, even if jitscope is
// killed or the disk fills up.
//
// For data at hand use WriteFile; for output produced bit by bit (a
// recording) use Create, write to the File, then Commit (or Abort).
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned (wrapped, with the path) when the destination exists
// and Options.Force is not set.
var ErrExists = errors.New("exists (use --force to overwrite it)")

// Options say how to write.
type Options struct {
	// Force replaces an existing file.
	Force bool
	// Perm is the new file's mode; 0 means 0644.
	Perm fs.FileMode
}

// File is a destination being written: a temporary file beside it until
// Commit renames it into place.
type File struct {
	*os.File
	path string
	opt  Options
	done bool
}

// Create starts writing path. Without Force an existing path is refused
// now, before any work is done, and again at Commit. A directory is never
// replaced.
func Create(path string, opt Options) (*File, error) {
	if path == "" {
		return nil, errors.New("no file name")
	}
	if err := check(path, opt.Force); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return &File{File: tmp, path: path, opt: opt}, nil
}

func check(path string, force bool) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	case fi.IsDir():
		return fmt.Errorf("%s: is a directory", path)
	case !force:
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	return nil
}

// unwrapPath drops the *fs.PathError around err: callers name the path
// themselves, once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Commit syncs the data and moves it into place. Without Force it refuses
// (ErrExists) a destination that appeared since Create: the temporary file
// is linked to the destination name, which fails if the name exists, where
// a rename would silently replace it. After Commit, Abort does nothing.
func (f *File) Commit() error {
	if f.done {
		return errors.New(f.path + ": already committed or aborted")
	}
	defer f.Abort()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", f.path, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", f.path, unwrapPath(err))
	}
	perm := f.opt.Perm
	if perm == 0 {
		perm = 0o644
	}
	tmp := f.Name()
	if err := os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("%s: %w", f.path, unwrapPath(err))
	}
	if err := check(f.path, f.opt.Force); err != nil {
		return err
	}
	if f.opt.Force {
		if err := os.Rename(tmp, f.path); err != nil {
			return fmt.Errorf("%s: %w", f.path, unwrapPath(err))
		}
	} else if err := os.Link(tmp, f.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", f.path, ErrExists)
		}
		// A file system without hard links: rename, checked just before.
		if err := os.Rename(tmp, f.path); err != nil {
			return fmt.Errorf("%s: %w", f.path, unwrapPath(err))
		}
	}
	syncDir(filepath.Dir(f.path))
	return nil
}

// Abort discards what was written; the destination is untouched. It is
// safe to call after Commit (deferred), and more than once.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// syncDir makes the rename durable where the file system needs it; a
// failure only weakens durability, not atomicity, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// WriteFile writes data to path atomically (see Create and Commit).
func WriteFile(path string, data []byte, opt Options) error {
	f, err := Create(path, opt)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return f.Commit()
}
