// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/jitscope/jitscope/kernel"
)

//go:embed builtin/*.scn
var builtinFS embed.FS

// Default is the built-in scenario jitscope shows when given no target: the
// story of seed 000 (arm64 keeps the tail call count across bpf2bpf calls).
const Default = "bpf2bpf-tailcall"

// Info describes a built-in scenario for `jitscope list`.
type Info struct {
	Name        string
	Description string        // first line of the description
	Arches      []kernel.Arch // architectures with pinned addresses
}

func builtinFile(name string) string { return "builtin/" + name + ".scn" }

// builtinNames returns the names of the built-in scenarios, sorted.
func builtinNames() []string {
	ents, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".scn"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// IsBuiltin reports whether name is a built-in scenario.
func IsBuiltin(name string) bool { return slices.Contains(builtinNames(), name) }

// Builtins lists the built-in scenarios, sorted by name.
func Builtins() []Info {
	var out []Info
	for _, n := range builtinNames() {
		info := Info{Name: n}
		s, err := Builtin(n)
		if err != nil {
			// Only a broken build gets here; the tests parse every built-in.
			info.Description = "broken built-in: " + err.Error()
			out = append(out, info)
			continue
		}
		info.Description, _, _ = strings.Cut(s.Description, "\n")
		for a := range s.Placements {
			info.Arches = append(info.Arches, a)
		}
		slices.Sort(info.Arches)
		out = append(out, info)
	}
	return out
}

func notBuiltin(name string) error {
	return fmt.Errorf("%s: not a built-in scenario (see `jitscope list`)", name)
}

// Show returns the source text of a built-in scenario.
func Show(name string) ([]byte, error) {
	if !IsBuiltin(name) {
		return nil, notBuiltin(name)
	}
	return builtinFS.ReadFile(builtinFile(name))
}

// Builtin parses a built-in scenario. Each call returns a new Set.
func Builtin(name string) (*kernel.Set, error) {
	src, err := Show(name)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path.Join("scenarios", builtinFile(name)), src)
	if err != nil {
		return nil, err
	}
	s.Source = "builtin:" + name
	return s, nil
}
