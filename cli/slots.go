package cli

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/kernel"
)

// slotFlags collects --slot MAP[KEY]=PROG (PROG empty: empty the slot).
type slotFlags []string

func (s *slotFlags) String() string     { return strings.Join(*s, ",") }
func (s *slotFlags) Set(v string) error { *s = append(*s, v); return nil }

var slotRE = regexp.MustCompile(`^([A-Za-z_.][A-Za-z0-9_.]*)\[(\d+)\]=([A-Za-z0-9_.]*)$`)

// applySlots fills or empties prog array slots of the set before it is
// compiled, as a bpf_map_update_elem/delete_elem would before the load.
// Errors name the target (name) the slots belong to.
func applySlots(name string, set *kernel.Set, slots []string) error {
	for _, s := range slots {
		m := slotRE.FindStringSubmatch(s)
		if m == nil {
			return usagef("--slot %q: want MAP[KEY]=PROG (PROG empty to empty the slot)", s)
		}
		mp := set.Map(m[1])
		if mp == nil || !mp.IsProgArray() {
			return fmt.Errorf("%s: --slot %s: %s is not a prog array of this scenario", name, s, m[1])
		}
		key, err := strconv.ParseUint(m[2], 10, 32)
		if err != nil || key >= uint64(mp.MaxEntries) {
			return fmt.Errorf("%s: --slot %s: index %s out of range (max_entries %d)", name, s, m[2], mp.MaxEntries)
		}
		if m[3] == "" {
			delete(mp.Progs, uint32(key))
			continue
		}
		if set.Program(m[3]) == nil {
			return fmt.Errorf("%s: --slot %s: no program %q in this scenario", name, s, m[3])
		}
		if mp.Progs == nil {
			mp.Progs = map[uint32]string{}
		}
		mp.Progs[uint32(key)] = m[3]
	}
	return nil
}
