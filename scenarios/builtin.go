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

//go:embed builtin/*.scn builtin/*.tour.toml
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

// builtinTourFile is a built-in scenario's sidecar tour, for scenarios
// whose .scn file has no [[tour]] of its own.
func builtinTourFile(name string) string { return "builtin/" + name + ".tour.toml" }

// builtinPath names an embedded file in error messages.
func builtinPath(f string) string { return path.Join("scenarios", f) }

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

// Show returns the source text of a built-in scenario. A sidecar tour
// (builtin/NAME.tour.toml) is appended to the scenario file, so the text is
// one scenario file with its tour that parses back to the same scenario.
func Show(name string) ([]byte, error) {
	if !IsBuiltin(name) {
		return nil, notBuiltin(name)
	}
	src, err := builtinFS.ReadFile(builtinFile(name))
	if err != nil {
		return nil, err
	}
	side, err := builtinFS.ReadFile(builtinTourFile(name))
	if err != nil {
		return src, nil
	}
	out := append([]byte(nil), src...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, "\n# The guided tour (kept in "+builtinTourFile(name)+" beside the built-in scenario).\n"...)
	return append(out, side...), nil
}

// Builtin parses a built-in scenario. Each call returns a new Set.
func Builtin(name string) (*kernel.Set, error) {
	sc, err := BuiltinScenario(name)
	if err != nil {
		return nil, err
	}
	return sc.Set, nil
}
