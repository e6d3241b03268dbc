// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
)

// two programs with a prog array, for packet, tour and extension tests.
const twoProgs = `name = "two"
[[program]]
name = "main"
type = "sched_cls"
asm = """
main:
	r2 = map[jt]
	r3 = 0
	call bpf_tail_call
	call helper_fn
	exit
helper_fn:
	r0 = 1
	exit
"""

[[program]]
name = "callee"
type = "sched_cls"
asm = """
	r0 = 7
	exit
"""

[[map]]
name = "jt"
type = "prog_array"
max_entries = 2
entries = { "0" = "callee" }
`

func TestPackets(t *testing.T) {
	sc, err := ParseScenario("p.scn", []byte(twoProgs+"packet = \"0x01 02 0a\"\n"))
	if err == nil {
		t.Fatalf("a top-level key after [[map]] belongs to the map: want an error, got packets %v", sc.Packets)
	}
	sc, err = ParseScenario("p.scn", []byte("packet = \"01 02 0a\"\n"+twoProgs))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Packet{{"default", []byte{1, 2, 10}}}; !reflect.DeepEqual(sc.Packets, want) {
		t.Errorf("packets %v, want %v", sc.Packets, want)
	}
	src := twoProgs + "[packets]\nzeta = \"ff\"\nalpha = [1, 2]\nmid = \"\"\"\n0a0b\n0c\"\"\"\n"
	sc, err = ParseScenario("p.scn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// File order, not alphabetical: the first is the default.
	want := []Packet{{"zeta", []byte{0xff}}, {"alpha", []byte{1, 2}}, {"mid", []byte{10, 11, 12}}}
	if !reflect.DeepEqual(sc.Packets, want) {
		t.Errorf("packets %v, want %v", sc.Packets, want)
	}
	if b, err := sc.Packet(""); err != nil || !bytes.Equal(b, []byte{0xff}) {
		t.Errorf("default packet %x, %v", b, err)
	}
	if b, err := sc.Packet("mid"); err != nil || !bytes.Equal(b, []byte{10, 11, 12}) {
		t.Errorf("packet mid %x, %v", b, err)
	}
	if _, err := sc.Packet("nope"); err == nil || err.Error() != `two: no packet "nope" (packets: zeta, alpha, mid)` {
		t.Errorf("Packet(nope) = %v", err)
	}
	none, err := ParseScenario("p.scn", []byte(twoProgs))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := none.Packet(""); b != nil || err != nil {
		t.Errorf("no packets: default %x, %v; want nil (the emulator's frame)", b, err)
	}
	if _, err := none.Packet("tcp"); err == nil || !strings.Contains(err.Error(), "names no packets") {
		t.Errorf("Packet(tcp) without packets = %v", err)
	}
}

func TestPacketFor(t *testing.T) {
	b, err := PacketFor("packet-parser", "udp")
	if err != nil || len(b) != 64 || b[23] != 17 {
		t.Fatalf("packet-parser udp: % x, %v", b, err)
	}
	if b, err := PacketFor("packet-parser", ""); err != nil || b[23] != 6 {
		t.Errorf("packet-parser default is not the TCP frame: % x, %v", b, err)
	}
	if b, err := PacketFor("bpf2bpf-tailcall", ""); err != nil || b != nil {
		t.Errorf("scenario without packets: % x, %v", b, err)
	}
	if b, err := PacketFor("bpf2bpf-tailcall", "0x0a0B_0c"); err != nil || !bytes.Equal(b, []byte{10, 11, 12}) {
		t.Errorf("hex packet: % x, %v", b, err)
	}
	for _, bad := range []string{"0x123", "0x", "0xzz"} {
		if _, err := PacketFor("bpf2bpf-tailcall", bad); err == nil || !strings.HasPrefix(err.Error(), "--packet "+bad+": ") {
			t.Errorf("PacketFor(%s) = %v", bad, err)
		}
	}
	f := filepath.Join(t.TempDir(), "s.scn")
	if err := os.WriteFile(f, []byte("packets = { a = \"01\", b = \"02\" }\n"+twoProgs), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := PacketFor(f, "b"); err != nil || !bytes.Equal(b, []byte{2}) {
		t.Errorf("file packet b: % x, %v", b, err)
	}
	ps, err := Packets("syscall-dispatch")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "write,read,getpid,bogus" {
		t.Errorf("syscall-dispatch packets %v", names)
	}
}

// scnError parses src and returns its error line.
func scnError(t *testing.T, src string) string {
	t.Helper()
	_, err := ParseScenario("t.scn", []byte(src))
	if err == nil {
		t.Fatalf("no error for\n%s", src)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != "t.scn" {
		t.Errorf("error %T %v is not a *Error for t.scn", err, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error %q", err)
	}
	return err.Error()
}

func TestPacketErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"packet = \"01\"\npackets = { a = \"02\" }\n" + twoProgs, "t.scn:2: give either packet (one packet) or packets (named packets), not both"},
		{"packet = \"\"\n" + twoProgs, "t.scn:1: the top level: packet is empty"},
		{"packet = \"0g\"\n" + twoProgs, `t.scn:1: the top level: packet: "0g" is not a hex byte`},
		{"packet = 5\n" + twoProgs, "t.scn:1: the top level: packet is an integer, want a hex string or an array of bytes"},
		{"packets = {}\n" + twoProgs, "t.scn:1: packets: no packets in the table"},
		{"packets = { \"a b\" = \"01\" }\n" + twoProgs, `t.scn:1: packets: bad packet name "a b"`},
		{"\n[packets]\nok = \"01\"\nbig = \"" + strings.Repeat("00", MaxPacket+1) + "\"\n" + twoProgs, "t.scn:4: packets: big has 3841 bytes, more than the 3840 the emulator maps"},
	}
	for _, c := range cases {
		if got := scnError(t, c.src); !strings.HasPrefix(got, c.want) {
			t.Errorf("error\n  %s\nwant\n  %s", got, c.want)
		}
	}
}

const extProgs = `name = "x"
[[program]]
name = "disp"
type = "xdp"
asm = """
disp:
	call sub
	exit
sub:
	r0 = 2
	exit
"""
[[program]]
name = "ext1"
type = "ext"
target = "disp/sub"
attach = true
asm = """
	r0 = 1
	exit
"""
`

func TestProgInfo(t *testing.T) {
	sc, err := ParseScenario("x.scn", []byte(extProgs))
	if err != nil {
		t.Fatal(err)
	}
	if got := *sc.Progs["ext1"]; !reflect.DeepEqual(got, ProgInfo{Target: "disp", TargetFunc: "sub", Attach: true, Jited: true}) {
		t.Errorf("ext1: %+v", got)
	}
	if got := *sc.Progs["disp"]; !reflect.DeepEqual(got, ProgInfo{Jited: true, AttachType: "xdp"}) {
		t.Errorf("disp: %+v (libbpf loads SEC(\"xdp\") with BPF_XDP)", got)
	}
	sc, err = ParseScenario("x.scn", []byte(strings.Replace(extProgs, `target = "disp/sub"`, "target = \"disp\"\nxdp_frags = true\njited = false\nexpected_attach_type = \"BPF_XDP\"", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := *sc.Progs["ext1"]; !reflect.DeepEqual(got, ProgInfo{Target: "disp", TargetFunc: "disp", Attach: true, XDPFrags: true, AttachType: "xdp"}) {
		t.Errorf("ext1 with flags: %+v", got)
	}
	cases := []struct{ src, want string }{
		{strings.Replace(extProgs, "target = \"disp/sub\"\n", "", 1), "t.scn:13: program ext1: an extension program needs target = \"PROGRAM/FUNCTION\""},
		{strings.Replace(extProgs, `"disp/sub"`, `"disp/nope"`, 1), `t.scn:16: program ext1: target "disp/nope": program disp has no function "nope"`},
		{strings.Replace(extProgs, `"disp/sub"`, `"ext1"`, 1), `t.scn:16: program ext1: target "ext1": no other program "ext1" (programs: disp, ext1)`},
		{strings.Replace(extProgs, "attach = true", "attach = 1", 1), "t.scn:17: program ext1: attach is an integer, want true or false"},
		{strings.Replace(extProgs, "type = \"xdp\"", "type = \"xdp\"\ntarget = \"ext1\"", 1), `t.scn:5: program disp: target is for extension programs (type = "ext"), not xdp`},
		{strings.Replace(extProgs, "type = \"xdp\"", "type = \"xdp\"\nattach = true", 1), `t.scn:5: program disp: attach is for extension programs`},
		{strings.Replace(extProgs, "attach = true", "expected_attach_type = \"x y\"", 1), `t.scn:17: program ext1: bad expected_attach_type "x y"`},
		// The target must be loaded first: programs load in file order.
		{`name = "x"
[[program]]
name = "ext1"
type = "ext"
target = "disp/sub"
asm = "exit"
` + extProgs[len(`name = "x"`)+1:strings.Index(extProgs, "[[program]]\nname = \"ext1\"")], "t.scn:5: program ext1: target program disp must come before ext1 (programs load in file order)"},
	}
	for _, c := range cases {
		if got := scnError(t, c.src); !strings.HasPrefix(got, c.want) {
			t.Errorf("error\n  %s\nwant\n  %s", got, c.want)
		}
	}
}

func TestCompatPlan(t *testing.T) {
	sc, err := BuiltinScenario("freplace-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	plan := sc.CompatPlan()
	var got []string
	for _, p := range plan.Progs {
		got = append(got, p.Name+":"+p.Type+":"+p.Target+"/"+p.TargetFunc+":"+strings.Join(p.UsedProgArrays, ","))
	}
	want := []string{"dispatcher:xdp:/:", "acl:ext:dispatcher/subprog1:acl_progs", "acl_algo:ext:dispatcher/subprog2:"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan programs %v, want %v", got, want)
	}
	if !plan.Progs[1].Attach || plan.Progs[2].Attach {
		t.Error("acl is attached, acl_algo only loaded")
	}
	if !reflect.DeepEqual(plan.Updates, []kernel.SlotUpdate{{Map: "acl_progs", Key: 1, Prog: "acl_algo"}}) {
		t.Errorf("updates %v", plan.Updates)
	}
	// The table, through the scenario files.
	for name, want := range map[string][]string{
		"freplace-tailcall":     {"allowed", "allowed", "-EINVAL"},
		"freplace-tailcall-xdp": {"-EINVAL", "allowed", "allowed"},
	} {
		sc, err := BuiltinScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, kn := range []string{"5.15", "6.6", "6.12"} {
			k, _ := kernel.LookupCompatKernel(kn)
			u := k.Run(sc.CompatPlan()).Update("acl_progs", 1)
			got := "allowed"
			if !u.OK {
				got = u.Errno
			}
			if got != want[i] {
				t.Errorf("%s on %s: %s (%s), want %s", name, kn, got, u.Reason, want[i])
			}
		}
	}
}

const tourScn = twoProgs + `
[packets]
a = "01"
b = "02"

[[tour]]
text = """
First stop,
two lines."""
arch = "x86_64"
profile = "v6.1"
function = "main"
offset = 0x10
panes = ["listing", "bpf"]

[[tour]]
text = "Second."
entry = "callee"
packet = "b"
slots = ["jt[0]="]
step = 3

[[tour]]
text = "Third."
arch = "arm64"
step = "tail_call#2"

[[tour]]
text = "Fourth."
address = "0xffff800009000000"
`

func TestTourParse(t *testing.T) {
	sc, err := ParseScenario("t.scn", []byte(tourScn))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Tour) != 4 {
		t.Fatalf("%d stops", len(sc.Tour))
	}
	s := sc.Tour
	if s[0].Text != "First stop, two lines." || s[0].Arch != kernel.X86_64 || s[0].Profile != "v6.1" ||
		s[0].Function != "main" || s[0].Offset != 0x10 || s[0].Step != -1 || s[0].Position() != "function" ||
		!reflect.DeepEqual(s[0].Panes, []string{"listing", "bpf"}) || s[0].Where() != fmt.Sprintf("t.scn:%d", 1+strings.Count(tourScn[:strings.Index(tourScn, "[[tour]]")], "\n")) {
		t.Errorf("stop 1: %+v", s[0])
	}
	// Inherited: arch and profile; set: entry, packet, slots.
	if s[1].Arch != kernel.X86_64 || s[1].Profile != "v6.1" || s[1].Entry != "callee" || s[1].Packet != "b" ||
		!reflect.DeepEqual(s[1].Slots, []string{"jt[0]="}) || s[1].Step != 3 || s[1].Position() != "step" || !s[1].NeedsRun() {
		t.Errorf("stop 2: %+v", s[1])
	}
	// A new arch drops the other architecture's profile.
	if s[2].Arch != kernel.ARM64 || s[2].Profile != "" || s[2].Entry != "callee" || s[2].Event != trace.TailCall || s[2].Nth != 2 || s[2].Position() != "event" {
		t.Errorf("stop 3: %+v", s[2])
	}
	if s[3].Address != 0xffff800009000000 || s[3].Position() != "address" || s[3].NeedsRun() {
		t.Errorf("stop 4: %+v", s[3])
	}
	// Without an [arch.X] placement a tour starts on arm64; with one, on it.
	sc, err = ParseScenario("t.scn", []byte(twoProgs+"[[tour]]\ntext = \"x\"\nfunction = \"callee\"\n"))
	if err != nil || sc.Tour[0].Arch != kernel.ARM64 {
		t.Errorf("default arch: %v, %v", sc.Tour, err)
	}
	sc, err = ParseScenario("t.scn", []byte(twoProgs+"[arch.x86_64]\nkernel = \"k\"\n[[tour]]\ntext = \"x\"\nfunction = \"callee\"\n"))
	if err != nil || sc.Tour[0].Arch != kernel.X86_64 {
		t.Errorf("placement arch: %v, %v", sc.Tour, err)
	}
}

func TestTourErrors(t *testing.T) {
	stop := func(body string) string { return twoProgs + "\n[[tour]]\n" + body }
	// Error lines below count from the [[tour]] header: @0 is its line.
	base := strings.Count(twoProgs, "\n") + 2
	cases := []struct{ src, want string }{
		{stop("function = \"main\"\n"), "t.scn:@0: tour stop 1: missing text"},
		{stop("text = \"\"\"\na\n\nb\"\"\"\nfunction = \"main\"\n"), "t.scn:@1: tour stop 1: text is one paragraph (no blank lines)"},
		{stop("text = \"x\"\n"), "t.scn:@0: tour stop 1: no position: give function (and offset), address, or step"},
		{stop("text = \"x\"\nfunction = \"main\"\nstep = 1\n"), "t.scn:@3: tour stop 1: give one position, not both function and step"},
		{stop("text = \"x\"\noffset = 4\n"), "t.scn:@2: tour stop 1: offset is counted from a function: give function too"},
		{stop("text = \"x\"\nfunction = \"nope\"\n"), `t.scn:@2: tour stop 1: function: no function "nope" in any program`},
		{stop("text = \"x\"\nfunction = \"main/nope\"\n"), `t.scn:@2: tour stop 1: function: "main/nope": program main has no function "nope"`},
		{stop("text = \"x\"\nstep = -2\n"), "t.scn:@2: tour stop 1: step -2 is negative"},
		{stop("text = \"x\"\nstep = \"tailcall\"\n"), `t.scn:@2: tour stop 1: step "tailcall": not an event kind (call, return, tail_call, tail_call_miss, tcc, helper, poke, freplace)`},
		{stop("text = \"x\"\nstep = \"tail_call#0\"\n"), `t.scn:@2: tour stop 1: step "tail_call#0": #0 is not a count from 1`},
		{stop("text = \"x\"\nstep = 1.5\n"), "t.scn:@2: tour stop 1: step is a float, want a step index"},
		{stop("text = \"x\"\nstep = 1\npanes = [\"listing\",\n  \"regs\"]\n"), `t.scn:@4: tour stop 1: panes[1] = regs is not a pane (listing, other, bpf, registers, stack, trace, maps, packet, compat)`},
		{stop("text = \"x\"\nstep = 1\npanes = [\"trace\", \"trace\"]\n"), `t.scn:@3: tour stop 1: pane "trace" twice`},
		{stop("text = \"x\"\nstep = 1\narch = \"mips\"\n"), `t.scn:@3: tour stop 1: unknown architecture "mips"`},
		{stop("text = \"x\"\nstep = 1\nentry = \"nope\"\n"), `t.scn:@3: tour stop 1: entry "nope" is not a program of this scenario (programs: main, callee)`},
		{stop("text = \"x\"\nstep = 1\npacket = \"tcp\"\n"), `t.scn:@3: tour stop 1: two: no packet "tcp": the scenario names no packets`},
		{stop("text = \"x\"\nstep = 1\nslots = [\"jt[5]=callee\"]\n"), `t.scn:@3: tour stop 1: slots[0] = jt[5]=callee: index 5 out of range (max_entries 2)`},
		{stop("text = \"x\"\nstep = 1\nslots = [\"jt[0]=nope\"]\n"), `t.scn:@3: tour stop 1: slots[0] = jt[0]=nope: no program "nope"`},
		{stop("text = \"x\"\nstep = 1\nslots = [\"nope[0]=callee\"]\n"), `t.scn:@3: tour stop 1: slots[0] = nope[0]=callee: nope is not a prog array of this scenario`},
		{stop("text = \"x\"\nstep = 1\nbogus = 1\n"), `t.scn:@3: unknown key "bogus" in tour stop 1`},
		{stop("text = \"x\"\nstep = 1\n") + "\n[[tour]]\ntext = \"y\"\nfunction = \"main\"\noffset = \"zz\"\n",
			`t.scn:@7: tour stop 2: offset = "zz" is not a number`},
		{"tour = 3\n" + twoProgs, "t.scn:1: tour is an integer, want tables written as [[tour]]"},
	}
	for _, c := range cases {
		want := c.want
		if i := strings.Index(want, "@"); i >= 0 {
			j := strings.Index(want[i:], ":") + i
			off, _ := strconv.Atoi(want[i+1 : j])
			want = want[:i] + strconv.Itoa(base+off) + want[j:]
		}
		if got := scnError(t, c.src); !strings.HasPrefix(got, want) {
			t.Errorf("error\n  %s\nwant\n  %s", got, want)
		}
	}
}

// Seed 000 and 001's tours live in sidecar files; Show appends them, so
// the printed text is one scenario file with the same tour.
func TestSidecarTours(t *testing.T) {
	for _, name := range []string{"bpf2bpf-tailcall", "direct-tailcall-poke"} {
		sc, err := BuiltinScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(sc.Tour) < 3 {
			t.Fatalf("%s: %d stops", name, len(sc.Tour))
		}
		if want := "scenarios/builtin/" + name + ".tour.toml"; sc.Tour[0].File != want {
			t.Errorf("%s: stop 1 from %s, want %s", name, sc.Tour[0].File, want)
		}
		src, err := Show(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte("# The guided tour (kept in builtin/"+name+".tour.toml")) {
			t.Errorf("%s: Show does not carry the tour", name)
		}
		again, err := ParseScenario("saved.scn", src)
		if err != nil {
			t.Fatalf("%s: Show's text: %v", name, err)
		}
		if len(again.Tour) != len(sc.Tour) {
			t.Fatalf("%s: %d stops parse back, want %d", name, len(again.Tour), len(sc.Tour))
		}
		for i := range sc.Tour {
			a, b := sc.Tour[i], again.Tour[i]
			a.File, a.Line, b.File, b.Line = "", 0, "", 0
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s stop %d: %+v, parsed back %+v", name, i+1, a, b)
			}
		}
	}
	// A sidecar error names the sidecar file and line.
	sc, err := BuiltinScenario("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseTour("side.tour.toml", []byte("[[tour]]\ntext = \"x\"\nfunction = \"entry\"\n\n[[tour]]\ntext = \"y\"\nfunction = \"nope\"\n"), sc)
	if err == nil || err.Error() != `side.tour.toml:7: tour stop 2: function: no function "nope" in any program` {
		t.Errorf("sidecar error %v", err)
	}
	if _, err := ParseTour("side.tour.toml", []byte("name = \"x\"\n"), sc); err == nil || !strings.HasPrefix(err.Error(), `side.tour.toml:1: unknown key "name" in the top level (known keys: tour)`) {
		t.Errorf("sidecar with other keys: %v", err)
	}
}

// Every built-in scenario carries a tour of 3 to 9 stops, and every
// built-in's tour parses (BuiltinScenario checks it).
func TestBuiltinTours(t *testing.T) {
	for _, n := range builtinNames() {
		sc, err := BuiltinScenario(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if len(sc.Tour) < 3 || len(sc.Tour) > 9 {
			t.Errorf("%s: %d tour stops, want 3 to 9", n, len(sc.Tour))
		}
	}
}
