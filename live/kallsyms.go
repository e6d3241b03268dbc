// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Kallsyms is /proc/kallsyms: kernel symbol addresses, for naming helper
// calls and thunks and for the addresses jitscope's JIT must use.
type Kallsyms struct {
	byName map[string]uint64
	addrs  []uint64 // sorted
	names  []string // names[i] is at addrs[i]
}

// ReadKallsyms reads the file (normally /proc/kallsyms). All addresses
// zero means kptr_restrict hides them: an error.
func ReadKallsyms(file string) (*Kallsyms, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	k, err := ParseKallsyms(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// ParseKallsyms reads kallsyms lines "ADDR TYPE NAME [MODULE]".
func ParseKallsyms(r io.Reader) (*Kallsyms, error) {
	k := &Kallsyms{byName: map[string]uint64{}}
	type ent struct {
		a uint64
		n string
	}
	var ents []ent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	nonzero := false
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: address %q: %v", line, f[0], err)
		}
		if a != 0 {
			nonzero = true
		}
		name := f[2]
		if _, dup := k.byName[name]; !dup {
			k.byName[name] = a
		}
		ents = append(ents, ent{a, name})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ents) > 0 && !nonzero {
		return nil, fmt.Errorf("every address is 0 (kernel.kptr_restrict hides them)")
	}
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].a < ents[j].a })
	for _, e := range ents {
		k.addrs = append(k.addrs, e.a)
		k.names = append(k.names, e.n)
	}
	return k, nil
}

// Addr returns the address of name.
func (k *Kallsyms) Addr(name string) (uint64, bool) {
	a, ok := k.byName[name]
	return a, ok
}

// Name returns the symbol exactly at addr.
func (k *Kallsyms) Name(addr uint64) (string, bool) {
	i := sort.Search(len(k.addrs), func(i int) bool { return k.addrs[i] >= addr })
	if i < len(k.addrs) && k.addrs[i] == addr {
		return k.names[i], true
	}
	return "", false
}
