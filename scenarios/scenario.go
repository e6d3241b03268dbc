// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/internal/readfile"
	"github.com/jitscope/jitscope/kernel"
)

// Scenario is a parsed scenario file: the kernel.Set every consumer uses,
// plus what only a scenario carries and kernel.Set has no place for.
type Scenario struct {
	Set *kernel.Set
	// Packets are the scenario's named packets in file order; the first
	// is the default. Empty when the file names none (the emulator then
	// uses its own default frame).
	Packets []Packet
	// Tour is the guided tour: stops in order.
	Tour []Stop
	// Order lists the programs in file order, the order user space loads
	// them in (Set.Programs puts the entry program first).
	Order []string
	// Progs holds per program what the compatibility model reads: the
	// extension target, attachment and load flags.
	Progs map[string]*ProgInfo
}

// Packet is one named packet of a scenario.
type Packet struct {
	Name string
	Data []byte
}

// ProgInfo is what a [[program]] table says beyond its code.
type ProgInfo struct {
	// Target and TargetFunc: for an extension (type "ext"), the program
	// and function it replaces (attach_prog_fd and attach_btf_id at load).
	Target, TargetFunc string
	// Attach: an freplace link attaches the extension after loading.
	Attach bool
	// Jited is false for a program the kernel interprets.
	Jited bool
	// XDPFrags: loaded with BPF_F_XDP_HAS_FRAGS; DevBound: with
	// BPF_F_XDP_DEV_BOUND_ONLY.
	XDPFrags, DevBound bool
	// AttachType is expected_attach_type in libbpf's spelling without the
	// BPF_ prefix ("xdp"); "" is 0. Default: what libbpf uses for the
	// type's plain section (kernel.DefaultExpectedAttachType).
	AttachType string
}

// MaxPacket is the largest packet a scenario may give: the emulator maps
// one page for the packet after 256 bytes of headroom.
const MaxPacket = 4096 - 256

var packetNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// packets reads packet = "hex" (one packet, named "default") or
// packets = { NAME = "hex", ... } (named, the first is the default).
func (p *parser) packets(top node) error {
	_, one := top.m["packet"]
	_, many := top.m["packets"]
	if one && many {
		return top.errf("packets", "give either packet (one packet) or packets (named packets), not both")
	}
	check := func(n node, key string, b []byte) error {
		if len(b) == 0 {
			return n.errf(key, "%s: %s is empty", n.what, key)
		}
		if len(b) > MaxPacket {
			return n.errf(key, "%s: %s has %d bytes, more than the %d the emulator maps", n.what, key, len(b), MaxPacket)
		}
		return nil
	}
	if one {
		b, err := p.bytes(top, "packet", top.m["packet"])
		if err != nil {
			return err
		}
		if err := check(top, "packet", b); err != nil {
			return err
		}
		p.sc.Packets = []Packet{{Name: "default", Data: b}}
		return nil
	}
	if !many {
		return nil
	}
	t, _, err := top.table("packets", "packets")
	if err != nil {
		return err
	}
	for _, k := range t.sortedKeys() {
		if !packetNameRE.MatchString(k) {
			return t.errf(k, "packets: bad packet name %q (letters, digits, '_' and '-')", k)
		}
		b, err := p.bytes(t, k, t.m[k])
		if err != nil {
			return err
		}
		if err := check(t, k, b); err != nil {
			return err
		}
		p.sc.Packets = append(p.sc.Packets, Packet{Name: k, Data: b})
	}
	if len(p.sc.Packets) == 0 {
		return top.errf("packets", "packets: no packets in the table")
	}
	return nil
}

// progInfo reads a program's extension target, attachment and load flags.
func (p *parser) progInfo(n node, s *kernel.Set, prog *kernel.Program) error {
	n.what = "program " + prog.Name
	info := &ProgInfo{Jited: true, AttachType: kernel.DefaultExpectedAttachType(prog.Type)}
	p.sc.Progs[prog.Name] = info
	flag := func(key string, dst *bool) error {
		v, ok := n.m[key]
		if !ok {
			return nil
		}
		b, isBool := v.(bool)
		if !isBool {
			return n.errf(key, "%s: %s is %s, want true or false", n.what, key, typeName(v))
		}
		*dst = b
		return nil
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"attach", &info.Attach}, {"jited", &info.Jited}, {"xdp_frags", &info.XDPFrags}, {"dev_bound", &info.DevBound}} {
		if err := flag(f.key, f.dst); err != nil {
			return err
		}
	}
	if at, ok, err := n.str("expected_attach_type"); err != nil {
		return err
	} else if ok {
		at = strings.ToLower(strings.TrimPrefix(at, "BPF_"))
		if at != "" && !nameRE.MatchString(at) {
			return n.errf("expected_attach_type", "%s: bad expected_attach_type %q (e.g. \"xdp\" for BPF_XDP, \"\" for 0)", n.what, at)
		}
		info.AttachType = at
	}
	target, ok, err := n.str("target")
	if err != nil {
		return err
	}
	if prog.Type != "ext" {
		if ok {
			return n.errf("target", "%s: target is for extension programs (type = \"ext\"), not %s", n.what, prog.Type)
		}
		if info.Attach {
			return n.errf("attach", "%s: attach is for extension programs (type = \"ext\") with a target", n.what)
		}
		return nil
	}
	if !ok {
		return n.errf("", "%s: an extension program needs target = \"PROGRAM/FUNCTION\" (the function it replaces)", n.what)
	}
	tp, tf, _ := strings.Cut(target, "/")
	tprog := s.Program(tp)
	if tprog == nil || tp == prog.Name {
		return n.errf("target", "%s: target %q: no other program %q (programs: %s)", n.what, target, tp, progNames(s))
	}
	if tf == "" {
		tf = tprog.Funcs[0].Name
	}
	found := false
	for _, f := range tprog.Funcs {
		found = found || f.Name == tf
	}
	if !found {
		return n.errf("target", "%s: target %q: program %s has no function %q", n.what, target, tp, tf)
	}
	for _, name := range p.sc.Order {
		if name == prog.Name {
			return n.errf("target", "%s: target program %s must come before %s (programs load in file order)", n.what, tp, prog.Name)
		}
		if name == tp {
			break
		}
	}
	info.Target, info.TargetFunc = tp, tf
	return nil
}

// Packet returns the packet called name; "" is the default (the first).
// A scenario without packets returns nil for "" (the emulator's default).
func (sc *Scenario) Packet(name string) ([]byte, error) {
	if name == "" {
		if len(sc.Packets) == 0 {
			return nil, nil
		}
		return sc.Packets[0].Data, nil
	}
	var names []string
	for _, pk := range sc.Packets {
		if pk.Name == name {
			return pk.Data, nil
		}
		names = append(names, pk.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no packet %q: the scenario names no packets", sc.Set.Name, name)
	}
	return nil, fmt.Errorf("%s: no packet %q (packets: %s)", sc.Set.Name, name, strings.Join(names, ", "))
}

// CompatPlan is what loading this scenario does in a kernel: its programs
// in file order with their extension targets and flags, the freplace
// attachments, then every prog array slot the maps fill.
func (sc *Scenario) CompatPlan() *kernel.CompatPlan {
	plan := kernel.PlanFromSet(sc.Set)
	byName := map[string]*kernel.CompatProg{}
	for _, cp := range plan.Progs {
		byName[cp.Name] = cp
	}
	if len(sc.Order) == len(plan.Progs) {
		plan.Progs = plan.Progs[:0]
		for _, n := range sc.Order {
			plan.Progs = append(plan.Progs, byName[n])
		}
	}
	for _, cp := range plan.Progs {
		info := sc.Progs[cp.Name]
		if info == nil {
			continue
		}
		cp.Target, cp.TargetFunc, cp.Attach = info.Target, info.TargetFunc, info.Attach
		cp.Jited, cp.XDPHasFrags, cp.DevBound, cp.AttachType = info.Jited, info.XDPFrags, info.DevBound, info.AttachType
	}
	return plan
}

// BuiltinScenario parses a built-in scenario with its tour (from the file
// or its sidecar builtin/NAME.tour.toml).
func BuiltinScenario(name string) (*Scenario, error) {
	if !IsBuiltin(name) {
		return nil, notBuiltin(name)
	}
	src, err := builtinFS.ReadFile(builtinFile(name))
	if err != nil {
		return nil, err
	}
	sc, err := ParseScenario(builtinPath(builtinFile(name)), src)
	if err != nil {
		return nil, err
	}
	sc.Set.Source = "builtin:" + name
	side, err := builtinFS.ReadFile(builtinTourFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return sc, nil
	}
	if err != nil {
		return nil, err
	}
	if len(sc.Tour) > 0 {
		return nil, &Error{File: builtinPath(builtinTourFile(name)), Msg: "the scenario has its own [[tour]]; a sidecar tour would replace it"}
	}
	if sc.Tour, err = ParseTour(builtinPath(builtinTourFile(name)), side, sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// LoadScenario loads a target as Load does and returns it as a Scenario.
// BPF ELF objects carry no packets or tour.
func LoadScenario(target string) (*Scenario, error) {
	if IsBuiltin(target) {
		return BuiltinScenario(target)
	}
	data, err := readfile.Read(target, 0)
	if err != nil || bytes.HasPrefix(data, []byte("\x7fELF")) {
		// Load says what is wrong with the target, or reads the object.
		s, err := Load(target)
		if err != nil {
			return nil, err
		}
		return &Scenario{Set: s, Progs: map[string]*ProgInfo{}}, nil
	}
	return ParseScenario(target, data)
}

// PacketFor returns the packet a run of target uses: the scenario's packet
// called name ("" for its default), or, for name "0x...", those bytes.
// nil means the emulator's default frame.
func PacketFor(target, name string) ([]byte, error) {
	if h, ok := strings.CutPrefix(name, "0x"); ok {
		h = strings.ReplaceAll(h, "_", "")
		if len(h) == 0 || len(h)%2 != 0 || len(h)/2 > MaxPacket {
			shown := name
			if len(shown) > 40 {
				shown = fmt.Sprintf("%s... (%d characters)", shown[:32], len(name))
			}
			return nil, fmt.Errorf("--packet %s: want an even number of hex digits, at most %d bytes", shown, MaxPacket)
		}
		b := make([]byte, len(h)/2)
		for i := range b {
			v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("--packet %s: %q is not a hex byte", name, h[2*i:2*i+2])
			}
			b[i] = byte(v)
		}
		return b, nil
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		if name != "" {
			return nil, fmt.Errorf("%s: a kernel capture has no named packets", target)
		}
		return nil, nil
	}
	sc, err := LoadScenario(target)
	if err != nil {
		return nil, err
	}
	return sc.Packet(name)
}

// Packets lists the named packets of a target (a built-in name or a
// scenario file).
func Packets(target string) ([]Packet, error) {
	sc, err := LoadScenario(target)
	if err != nil {
		return nil, err
	}
	return sc.Packets, nil
}
