// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/jitscope/jitscope/kernel"
)

var slotRE = regexp.MustCompile(`^([A-Za-z_.][A-Za-z0-9_.]*)\[(\d+)\]=([A-Za-z0-9_.]*)$`)

// ApplySlots fills or empties prog array slots of set before it is
// compiled ("MAP[KEY]=PROG", PROG empty to empty the slot), as a tour stop's
// slots ask and as a bpf_map_update_elem/delete_elem would before the load.
func ApplySlots(set *kernel.Set, slots []string) error {
	for _, s := range slots {
		m := slotRE.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("slot %q: want MAP[KEY]=PROG (PROG empty to empty the slot)", s)
		}
		mp := set.Map(m[1])
		if mp == nil || !mp.IsProgArray() {
			return fmt.Errorf("slot %s: %s is not a prog array of this scenario", s, m[1])
		}
		key, err := strconv.ParseUint(m[2], 10, 32)
		if err != nil || key >= uint64(mp.MaxEntries) {
			return fmt.Errorf("slot %s: index %s out of range (max_entries %d)", s, m[2], mp.MaxEntries)
		}
		if m[3] == "" {
			delete(mp.Progs, uint32(key))
			continue
		}
		if set.Program(m[3]) == nil {
			return fmt.Errorf("slot %s: no program %q in this scenario", s, m[3])
		}
		if mp.Progs == nil {
			mp.Progs = map[uint32]string{}
		}
		mp.Progs[uint32(key)] = m[3]
	}
	return nil
}
