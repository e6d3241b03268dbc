// SPDX-License-Identifier: GPL-2.0-only

package verifier

// Fixture is one file of testdata/: one program's facts on a real kernel
// and that kernel's xlated instructions (the oracle the rewrites are
// checked against). live's tests write them (-verifier-fixtures, as root);
// this package's tests read them.
type Fixture struct {
	Kernel    string            `json:"kernel"`
	Object    string            `json:"object"`
	Program   string            `json:"program"`
	Layout    map[string]int    `json:"layout"`
	CallBase  uint64            `json:"call_base"`
	Funcs     map[string]uint64 `json:"funcs"`
	CPUNumber uint32            `json:"cpu_number"`
	MapIDs    map[string]int    `json:"map_ids"`
	Xlated    string            `json:"xlated_hex"`
}

// Facts are the fixture's facts, as the rewrites take them.
func (fx *Fixture) Facts() Facts {
	return Facts{Layout: fx.Layout, CallBase: fx.CallBase, CPUNumber: fx.CPUNumber, MapIDs: fx.MapIDs,
		Func: func(n string) (uint64, bool) { a, ok := fx.Funcs[n]; return a, ok }}
}
