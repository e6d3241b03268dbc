// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/verifier"
)

var writeFixtures = flag.Bool("verifier-fixtures", false, "load the test objects and write ../verifier/testdata from the kernel's xlated instructions")

// TestWriteVerifierFixtures (with -verifier-fixtures, as root) loads every
// test object and records, per program, the facts and the kernel's xlated
// instructions.
func TestWriteVerifierFixtures(t *testing.T) {
	if !*writeFixtures {
		t.Skip("skipped: run with -verifier-fixtures to regenerate ../verifier/testdata")
	}
	if err := ReadConditions().Check(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	r, err := NewReader(HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := filepath.Glob("testdata/*.bpf.o")
	for _, obj := range objs {
		set, err := scenarios.LoadELF(obj)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, p := range set.Programs {
			order = append(order, p.Name)
		}
		l, err := Load(spec, order, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range l.Order {
			snap, err := r.Snapshot(l.IDs[name])
			if err != nil {
				t.Fatal(err)
			}
			f := r.Facts(snap)
			used := map[string]uint64{}
			f.Func = func(n string) (uint64, bool) {
				a, ok := r.Kallsyms.Addr(n)
				if ok {
					used[n] = a
				}
				return a, ok
			}
			for _, m := range set.Maps {
				if id, ok := f.MapIDs[m.Name]; ok {
					f.MapIDs[m.Name] = id
				}
			}
			if _, err := verifier.Rewrite(set, name, f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ids := map[string]int{}
			for _, m := range set.Maps {
				if id, ok := f.MapIDs[m.Name]; ok {
					ids[m.Name] = id
				}
			}
			lay := map[string]int{}
			keys := append([]string(nil), verifier.Required...)
			sort.Strings(keys)
			for _, k := range keys {
				if v, ok := f.Layout[k]; ok {
					lay[k] = v
				}
			}
			fx := verifier.Fixture{Kernel: r.Host.Release, Object: filepath.Base(obj), Program: name, Layout: lay,
				CallBase: f.CallBase, Funcs: used, CPUNumber: f.CPUNumber, MapIDs: ids, Xlated: hex.EncodeToString(snap.Info.Xlated)}
			b, _ := json.MarshalIndent(fx, "", " ")
			if err := os.WriteFile(filepath.Join("../verifier/testdata", name+".json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
