package kernel

import (
	"strings"
	"sync"
	"unicode"

	"github.com/cilium/ebpf/asm"
)

// HelperName returns the kernel name of helper id ("bpf_map_lookup_elem"),
// derived from cilium/ebpf's BuiltinFunc names, or "" for an unknown id.
func HelperName(id int64) string {
	if id > 0 && id < helperTable {
		helperInit.Do(initHelperIDs)
		return helperNames[id]
	}
	return helperName(id)
}

// helperTable bounds the ids whose names are computed once.
const helperTable = 512

func helperName(id int64) string {
	if id <= 0 || id > 1<<16 {
		return ""
	}
	s := asm.BuiltinFunc(id).String()
	if !strings.HasPrefix(s, "Fn") {
		return ""
	}
	return "bpf_" + snake(strings.TrimPrefix(s, "Fn"))
}

// HelperID returns the id of the helper called name, or -1.
func HelperID(name string) int64 {
	helperInit.Do(initHelperIDs)
	if id, ok := helperIDs[name]; ok {
		return id
	}
	return -1
}

var (
	helperIDs   map[string]int64
	helperNames []string // by id, below helperTable
	helperInit  sync.Once
)

func initHelperIDs() {
	m := map[string]int64{}
	names := make([]string, helperTable)
	for id := int64(1); id < helperTable; id++ {
		if n := helperName(id); n != "" {
			m[n] = id
			names[id] = n
		}
	}
	helperIDs, helperNames = m, names
}

// snake turns "MapLookupElem" into "map_lookup_elem" and "GetPrandomU32"
// into "get_prandom_u32" (digits stay attached to the preceding word).
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
