package amd64

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// These tests run real kernel JIT images from the captures: the 6.1 and
// 6.18 tailcall_count programs, whose classifier_0 tail-calls itself until
// the kernel's limit (MAX_TAIL_CALL_CNT = 33) and counts its runs in .bss.
// The kernel around them is stubbed: the return thunk is a ret, the
// prog_array is laid out from the capture's struct layout.

type capMap struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Address      string `json:"address"`
	ValueAddress string `json:"value_address"`
	ValueSize    int    `json:"value_size"`
	MaxEntries   int    `json:"max_entries"`
	Entries      map[string]struct {
		Prog    string `json:"prog"`
		Address string `json:"address"`
	} `json:"entries"`
}

type capFile struct {
	Functions []captureFunc     `json:"functions"`
	Maps      []capMap          `json:"maps"`
	Symbols   map[string]string `json:"symbols"`
	Layout    map[string]int    `json:"layout"`
	Run       []struct {
		Retval uint64 `json:"retval"`
	} `json:"run"`
	References []struct {
		Symbol string `json:"symbol"`
		What   string `json:"what"`
		Target string `json:"target"`
	} `json:"references"`
}

func hexAddr(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	return v
}

type kernelRig struct {
	m     *mem.Memory
	c     *CPU
	bss   uint64
	progs map[string]capFile
	dirs  map[string]string
}

const (
	rigStackTop = 0x7fff0000
	rigCtx      = 0x50000000
	rigDone     = 0x60000000 // return address of the outermost call
	rigProgs    = 0x51000000 // fake struct bpf_prog
)

// newKernelRig maps every program of a capture scenario (image from
// jited.bin, or jited.empty.bin when empty is set), its maps and stubs.
func newKernelRig(t *testing.T, scenario string, empty bool) *kernelRig {
	r := &kernelRig{m: mem.New(16 << 20), c: &CPU{Trace: true}, progs: map[string]capFile{}, dirs: map[string]string{}}
	dirs, _ := filepath.Glob(filepath.Join(scenario, "*", "capture.json"))
	if len(dirs) == 0 {
		t.Skipf("no captures in %s", scenario)
	}
	mapped := map[uint64]bool{}
	mapOnce := func(name string, addr, size uint64, perm mem.Perm) {
		if mapped[addr] {
			return
		}
		mapped[addr] = true
		if err := r.m.Map(name, addr, size, perm); err != nil {
			t.Fatal(err)
		}
	}
	for _, cj := range dirs {
		var cf capFile
		raw, err := os.ReadFile(cj)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &cf); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(cj))
		r.progs[name] = cf
		r.dirs[name] = filepath.Dir(cj)
		img := "jited.bin"
		if empty {
			if _, err := os.Stat(filepath.Join(filepath.Dir(cj), "jited.empty.bin")); err == nil {
				img = "jited.empty.bin"
			}
		}
		bin, err := os.ReadFile(filepath.Join(filepath.Dir(cj), img))
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range cf.Functions {
			a := hexAddr(t, fn.Address)
			mapOnce(name+"/"+fn.Name, a, uint64(fn.JitedLen), mem.Read|mem.Exec)
			if err := r.m.WriteBytes(a, bin[fn.JitedOffset:fn.JitedOffset+fn.JitedLen]); err != nil {
				t.Fatal(err)
			}
		}
		for _, ref := range cf.References {
			if ref.What != "kernel" {
				continue
			}
			a := hexAddr(t, ref.Target)
			var stub []byte
			switch {
			case strings.Contains(ref.Symbol, "return_thunk"):
				stub = []byte{0xc3} // ret
			case ref.Symbol == "__x86_indirect_thunk_rcx":
				stub = []byte{0xff, 0xe1} // jmp rcx
			default:
				t.Skipf("%s calls the kernel function %s", name, ref.Symbol)
			}
			mapOnce(ref.Symbol, a, uint64(len(stub)), mem.Read|mem.Exec)
			if err := r.m.WriteBytes(a, stub); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Maps: prog_array as struct bpf_array, globals as their values.
	nprog := uint64(0)
	for _, cf := range r.progs {
		for _, mp := range cf.Maps {
			switch {
			case mp.Type == "prog_array" && mp.Address != "":
				a := hexAddr(t, mp.Address)
				ptrs := uint64(cf.Layout["bpf_array.ptrs"])
				if mapped[a] {
					continue
				}
				mapOnce(mp.Name, a, ptrs+8*uint64(mp.MaxEntries), mem.Read|mem.Write)
				if err := r.m.Store(a+uint64(cf.Layout["bpf_array.map.max_entries"]), 4, uint64(mp.MaxEntries)); err != nil {
					t.Fatal(err)
				}
				if !mapped[rigProgs] {
					mapOnce("bpf_progs", rigProgs, 0x10000, mem.Read|mem.Write)
				}
				for k, e := range mp.Entries {
					idx, _ := strconv.Atoi(k)
					prog := rigProgs + 0x100*nprog
					nprog++
					if err := r.m.Store(prog+uint64(cf.Layout["bpf_prog.bpf_func"]), 8, hexAddr(t, e.Address)); err != nil {
						t.Fatal(err)
					}
					if err := r.m.Store(a+ptrs+8*uint64(idx), 8, prog); err != nil {
						t.Fatal(err)
					}
				}
			case mp.ValueAddress != "":
				a := hexAddr(t, mp.ValueAddress)
				if mp.Name == ".bss" {
					r.bss = a
				}
				mapOnce(mp.Name, a, uint64(mp.ValueSize*max(mp.MaxEntries, 1)), mem.Read|mem.Write)
				if mp.Name == ".data" {
					_ = r.m.Store(a, 4, 1) // key1 = 1
				}
			}
		}
	}
	mapOnce("stack", rigStackTop-0x10000, 0x10000, mem.Read|mem.Write)
	mapOnce("ctx", rigCtx, 0x1000, mem.Read|mem.Write)
	return r
}

// run calls prog like the kernel's BPF_PROG_TEST_RUN would and returns
// rax; every step is undone afterwards and the state compared.
func (r *kernelRig) run(t *testing.T, prog string) (uint64, int) {
	cf := r.progs[prog]
	c := r.c
	c.R = [16]uint64{}
	c.R[RSP] = rigStackTop - 8
	if err := r.m.Store(c.R[RSP], 8, rigDone); err != nil {
		t.Fatal(err)
	}
	c.R[RDI] = rigCtx
	c.RIP = hexAddr(t, cf.Functions[0].Address)
	start := *c
	startBss, _ := r.m.ReadBytes(r.bss, 4)
	var effects []Effect
	tailCalls := 0
	for c.RIP != rigDone {
		if len(effects) > 100000 {
			t.Fatal("no return after 100000 steps")
		}
		e, err := c.Step(r.m)
		if err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
		if e.Branch.Kind == KindJump || e.Branch.Kind == KindIndirect {
			// A tail call enters a program X86_TAIL_CALL_OFFSET bytes
			// (0xb on 6.1, 0xc on 6.18) past its start, from outside.
			for _, other := range r.progs {
				a := hexAddr(t, other.Functions[0].Address)
				if (e.Branch.Target == a+0xb || e.Branch.Target == a+0xc) && (e.PC < a || e.PC >= a+0x20) {
					tailCalls++
				}
			}
		}
		effects = append(effects, e)
	}
	ret := c.R[RAX]
	steps := len(effects)
	for i := len(effects) - 1; i >= 0; i-- {
		c.Undo(r.m, effects[i])
	}
	if c.R != start.R || c.RIP != start.RIP || c.Flags != start.Flags {
		t.Errorf("%s: undoing %d steps did not restore the registers", prog, steps)
	}
	if b, _ := r.m.ReadBytes(r.bss, 4); !bytes.Equal(b, startBss) {
		t.Errorf("%s: undo did not restore .bss", prog)
	}
	// Run again without undo for the caller to inspect.
	c.Trace = false
	*c = start
	for c.RIP != rigDone {
		if _, err := c.Step(r.m); err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
	}
	c.Trace = true
	if c.R[RSP] != rigStackTop {
		t.Errorf("%s: rsp %#x after return, want %#x", prog, c.R[RSP], uint64(rigStackTop))
	}
	return ret, tailCalls
}

func TestKernelTailCallCount(t *testing.T) {
	for _, k := range []string{"x86_64-6.1", "x86_64-6.18"} {
		t.Run(k, func(t *testing.T) {
			scen := filepath.Join("../../testdata/captures", k, "tailcall_count")
			r := newKernelRig(t, scen, false)
			ret, tc := r.run(t, "classifier_0")
			count, _ := r.m.Load(r.bss, 4)
			if ret != 1 || count != 34 || tc != 33 {
				t.Errorf("classifier_0: returned %d, count %d, %d tail calls; want 1, 34, 33", ret, count, tc)
			}

			// entry with the prog_array empty: the direct tail call is
			// bypassed; then text_poke the jump in, as the kernel does
			// when the slot is filled, and run it again.
			r = newKernelRig(t, scen, true)
			ret, _ = r.run(t, "entry")
			count, _ = r.m.Load(r.bss, 4)
			if ret != 0 || count != 0 {
				t.Errorf("entry (empty prog_array): returned %d, count %d; want 0, 0", ret, count)
			}
			pokes := 0
			for name, cf := range r.progs {
				dir := r.dirs[name]
				full, err1 := os.ReadFile(filepath.Join(dir, "jited.bin"))
				emptyImg, err2 := os.ReadFile(filepath.Join(dir, "jited.empty.bin"))
				if err2 != nil {
					continue
				}
				if err1 != nil || len(full) != len(emptyImg) {
					t.Fatalf("%s: images", name)
				}
				base := hexAddr(t, cf.Functions[0].Address)
				for i := 0; i < len(full); {
					if full[i] == emptyImg[i] {
						i++
						continue
					}
					// text_poke_bp rewrites 5-byte instructions.
					if err := r.m.WriteBytes(base+uint64(i), full[i:i+5]); err != nil {
						t.Fatal(err)
					}
					r.c.InvalidateCode(base+uint64(i), 5)
					pokes++
					i += 5
				}
			}
			if pokes < 2 {
				t.Errorf("%d pokes, want at least 2 (bypass and target)", pokes)
			}
			ret, tc = r.run(t, "entry")
			count, _ = r.m.Load(r.bss, 4)
			if ret != 1 || count != 33 || tc != 33 {
				t.Errorf("entry: returned %d, count %d, %d tail calls; want 1, 33, 33", ret, count, tc)
			}
		})
	}
}

// TestKernelBpf2BpfTailCall runs entry -> subprog_tail (bpf2bpf call) ->
// direct tail call from the subprogram -> classifier_0, which sets
// .bss done = 1 and returns 0 (the return value the capture recorded for
// entry); with the prog_array empty subprog_tail returns 1.
func TestKernelBpf2BpfTailCall(t *testing.T) {
	for _, k := range []string{"x86_64-6.1", "x86_64-6.18"} {
		t.Run(k, func(t *testing.T) {
			scen := filepath.Join("../../testdata/captures", k, "bpf2bpf_tailcall")
			r := newKernelRig(t, scen, true)
			if r.bss == 0 {
				t.Skip("no .bss")
			}
			ret, tc := r.run(t, "entry")
			done, _ := r.m.Load(r.bss, 4)
			if ret != 1 || done != 0 || tc != 0 {
				t.Errorf("empty prog_array: returned %d, done %d, %d tail calls; want 1, 0, 0", ret, done, tc)
			}
			r = newKernelRig(t, scen, false)
			ret, tc = r.run(t, "entry")
			done, _ = r.m.Load(r.bss, 4)
			runs := r.progs["entry"].Run
			if len(runs) == 0 {
				t.Fatal("entry: no recorded run")
			}
			want := runs[len(runs)-1].Retval
			if ret != want || done != 1 || tc != 1 {
				t.Errorf("returned %d, done %d, %d tail calls; want %d, 1, 1", ret, done, tc, want)
			}
		})
	}
}
