// SPDX-License-Identifier: GPL-2.0-only

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if a temporary file was left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.scn")
	if err := WriteFile(p, []byte("one"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "one" {
		t.Errorf("content %q", got)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
	// Without Force an existing file is kept.
	err := WriteFile(p, []byte("two"), Options{})
	if !errors.Is(err, ErrExists) || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("overwrite without Force: %v", err)
	}
	if got := read(t, p); got != "one" {
		t.Errorf("refused write changed the file: %q", got)
	}
	if err := WriteFile(p, []byte("three"), Options{Force: true, Perm: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "three" {
		t.Errorf("forced write: %q", got)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	noTemps(t, dir)
}

// A file that appears while the data is written is not replaced.
func TestCommitRace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.cast")
	f, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("ours")
	if err := os.WriteFile(p, []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, ErrExists) {
		t.Errorf("Commit over a new file: %v", err)
	}
	if got := read(t, p); got != "theirs" {
		t.Errorf("the other file was replaced: %q", got)
	}
	noTemps(t, dir)
}

// Until Commit the destination does not exist; Abort leaves nothing.
func TestAbort(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.cast")
	f, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("destination exists before Commit: %v", err)
	}
	f.Abort()
	f.Abort()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("destination exists after Abort: %v", err)
	}
	if err := f.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	noTemps(t, dir)
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(dir, []byte("x"), Options{Force: true}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "f")
	if err := WriteFile(missing, []byte("x"), Options{}); err == nil || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing directory: %v", err)
	}
	if err := WriteFile("", nil, Options{}); err == nil {
		t.Error("empty name accepted")
	}
}
