// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/live"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
)

// verifyPauseEnv makes verify wait this long (a Go duration) after loading,
// so a test can interrupt it while programs are loaded.
const verifyPauseEnv = "JITSCOPE_VERIFY_PAUSE"

// verifyPacket is what BPF_PROG_TEST_RUN gets when the scenario names no
// packet: the emulator's default frame (exec/machine defaultPacket, a
// 64-byte Ethernet/IPv4/TCP frame), so both runs see the same bytes.
var verifyPacket = func() []byte {
	p := make([]byte, 64)
	copy(p, []byte{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x32, 0, 0, 0, 0, 0x40, 0x06})
	return p
}()

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = f.Read(magic[:])
	return err == nil && bytes.Equal(magic[:], []byte("\x7fELF"))
}

// loadable splits the set's programs into those BPF_PROG_LOAD takes on
// their own and those it does not (freplace programs need a target).
// asLoaded is t as verify loads it into the kernel: without the programs
// loadable skipped and the prog array slots that name them, so that the
// emulator runs what the kernel runs (an extension verify could not load
// is not attached on the emulator either).
func asLoaded(t *session.Target, skipped map[string]string) *session.Target {
	if len(skipped) == 0 {
		return t
	}
	set := *t.Set
	set.Programs = nil
	for _, p := range t.Set.Programs {
		if _, skip := skipped[p.Name]; !skip {
			set.Programs = append(set.Programs, p)
		}
	}
	set.Maps = nil
	for _, m := range t.Set.Maps {
		mc := *m
		if m.Progs != nil {
			mc.Progs = map[uint32]string{}
			for k, prog := range m.Progs {
				if _, skip := skipped[prog]; !skip {
					mc.Progs[k] = prog
				}
			}
		}
		set.Maps = append(set.Maps, &mc)
	}
	tc := *t
	tc.Set = &set
	return &tc
}

func loadable(s *kernel.Set) (keep []string, skipped map[string]string) {
	skipped = map[string]string{}
	for _, p := range s.Programs {
		if p.Type == "ext" {
			skipped[p.Name] = "an ext (freplace) program needs a target program to load against"
			continue
		}
		keep = append(keep, p.Name)
	}
	return keep, skipped
}

// verifyMaxSteps bounds verify's emulator runs: a loop only may_goto's
// time slice ends (gt_jmp's jmp_long) takes over a million instructions
// on the kernel memory model.
const verifyMaxSteps = 20_000_000

func kernelVerify(env Env, kf *kernelFlags, target string) (err error) {
	t, err := session.LoadTarget(target)
	if err != nil {
		return err
	}
	if t.Capture != nil {
		return fmt.Errorf("%s: a kernel capture is already the kernel's output; verify loads scenarios and BPF objects", target)
	}
	r, p, err := kf.readerProfile()
	if err != nil {
		return err
	}
	order, skipped := loadable(t.Set)
	if len(order) == 0 {
		return fmt.Errorf("%s: nothing to load (%d programs skipped)", target, len(skipped))
	}
	var spec *ebpf.CollectionSpec
	if isELF(target) {
		spec, err = ebpf.LoadCollectionSpec(target)
	} else {
		spec, err = live.SpecFromSet(t.Set)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	for name := range skipped {
		delete(spec.Programs, name)
	}
	// What is loaded: the target without the skipped programs; the
	// emulator runs the same (below).
	tl := asLoaded(t, skipped)
	slots := map[string]map[uint32]string{}
	for _, m := range tl.Set.Maps {
		for k, prog := range m.Progs {
			if slots[m.Name] == nil {
				slots[m.Name] = map[uint32]string{}
			}
			slots[m.Name][k] = prog
		}
	}

	// Everything loaded is unloaded on every way out: return, error,
	// panic (deferred), SIGINT/SIGTERM (the handler below).
	var mu sync.Mutex
	var loaded *live.Loaded
	unload := func() error {
		mu.Lock()
		defer mu.Unlock()
		if loaded == nil {
			return nil
		}
		l := loaded
		loaded = nil
		return l.Close()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sig)
		close(done)
		if cerr := unload(); cerr != nil && err == nil {
			err = fmt.Errorf("%s: unloading: %w", target, cerr)
		}
	}()
	go func() {
		select {
		case s := <-sig:
			cerr := unload()
			if cerr != nil {
				fmt.Fprintf(env.Stderr, "jitscope: %s: interrupted (%v); unloading: %v\n", target, s, cerr)
			} else {
				fmt.Fprintf(env.Stderr, "jitscope: %s: interrupted (%v); everything it loaded is unloaded\n", target, s)
			}
			os.Exit(1)
		case <-done:
		}
	}()

	l, err := live.Load(spec, order, slots)
	if err != nil {
		return fmt.Errorf("%s: loading into the kernel: %w", target, err)
	}
	mu.Lock()
	loaded = l
	mu.Unlock()
	if d, perr := time.ParseDuration(os.Getenv(verifyPauseEnv)); perr == nil && d > 0 {
		var ids []string
		for _, n := range l.Order {
			ids = append(ids, fmt.Sprint(l.IDs[n]))
		}
		fmt.Fprintf(env.Stdout, "loaded %d programs (ids %s); pausing %v (%s)\n", len(l.Order), strings.Join(ids, " "), d, verifyPauseEnv)
		time.Sleep(d)
	}
	if os.Getenv(verifyPauseEnv) == "fail" {
		return fmt.Errorf("%s: forced failure after loading (%s=fail)", target, verifyPauseEnv)
	}
	r.StackDepths = l.StackDepths

	fmt.Fprintf(env.Stdout, "verify %s on Linux %s (%s), profile %s\n", target, r.Host.Release, r.Host.Arch, p.Name)
	for name, why := range skipped {
		fmt.Fprintf(env.Stdout, "%s: skipped: %s\n", name, why)
	}
	lopt, err := listOptions(p, "")
	if err != nil {
		return err
	}
	var problems []string
	nfuncs := 0
	pkt, err := scenarios.PacketFor(target, "")
	if err != nil || pkt == nil {
		pkt = verifyPacket
	}
	snaps := map[string]*live.Snapshot{}
	preds := map[string]*live.Prediction{}
	var unpredicted error
	for _, name := range l.Order {
		if snaps[name], err = r.Snapshot(l.IDs[name]); err != nil {
			return err
		}
		// jitscope's verifier model on the program as written, against
		// the kernel's xlated instructions.
		pr := r.Predict(t.Set, name, snaps[name])
		preds[name] = pr
		switch {
		case unpredicted != nil:
		case pr.Err != nil:
			unpredicted = fmt.Errorf("%s: %v", name, pr.Err)
		case pr.FirstDiff >= 0:
			unpredicted = fmt.Errorf("%s: jitscope's rewrites differ from the kernel's", name)
		}
	}
	// The emulator runs the image of what the kernel's JIT received:
	// jitscope's verifier model on the set as written, with this kernel's
	// facts, on the kernel memory model — when the model predicts every
	// program's translation exactly. Otherwise the programs run as
	// written (uapi context, helpers by id), as before the model existed.
	// It runs what the kernel runs: tl, without the programs verify skipped.
	rf, depths := r.RunFacts(tl.Set, snaps)
	runT, runFacts := tl, &rf
	if unpredicted == nil {
		runT, unpredicted = tl.Verified(r.Host.Arch, rf, depths)
	}
	if unpredicted != nil {
		fmt.Fprintf(env.Stdout, "run: the emulator runs the programs as written: %v\n", unpredicted)
		runT, runFacts = tl, nil
	}
	for _, name := range l.Order {
		id := l.IDs[name]
		snap := snaps[name]
		cmp, err := live.Compare(snap, p.WithConfig(snap.Capture.Placement().Config), lopt)
		if err != nil {
			return err
		}
		for _, f := range cmp.Funcs {
			nfuncs++
			fmt.Fprintf(env.Stdout, "%s (id %d): %s\n", name, id, f.Describe())
			if !f.Identical {
				problems = append(problems, fmt.Sprintf("%s/%s differs", name, f.Name))
			}
		}
		pred := preds[name]
		fmt.Fprintf(env.Stdout, "%s: xlated from the object: %s\n", name, pred.Describe())
		if pred.Err == nil && pred.FirstDiff >= 0 {
			problems = append(problems, name+": jitscope's verifier rewrites differ from the kernel's")
		}
		if pred.Err == nil && pred.FirstDiff < 0 {
			// The whole path from the object: rewrites, then the JIT at
			// the kernel's addresses.
			_, diff, err := r.ObjectImage(t.Set, pred, snap, p)
			switch {
			case err != nil:
				fmt.Fprintf(env.Stdout, "%s: image from the object: not made: %v\n", name, err)
				problems = append(problems, name+": no image from the object")
			case diff != "":
				fmt.Fprintf(env.Stdout, "%s: image from the object: %s\n", name, diff)
				problems = append(problems, name+": the image from the object differs")
			default:
				fmt.Fprintf(env.Stdout, "%s: image from the object: identical\n", name)
			}
		}
		// The emulator runs jitscope's image of the program as the
		// verifier rewrote it, then the kernel runs it — unless the
		// emulator found that it does not return: a kernel runs such a
		// program to the end with the CPU held (selftest-hierarchy1 on a
		// kernel before 6.11 makes 2^33 tail calls: a soft lockup for
		// hours), so it is not handed to BPF_PROG_TEST_RUN.
		res, eerr := runTarget(runT, r.Host.Arch, p, name, runLimits{steps: verifyMaxSteps, mem: DefaultMaxMem}, nil, pkt, runFacts)
		if eerr == nil && res.stepLimit {
			fmt.Fprintf(env.Stdout, "%s: run: not run in the kernel: on the emulator it had not returned after %d instructions (%d tail calls), so the kernel would hold the CPU as long\n", name, res.Steps, res.TailCalls)
			continue
		}
		kret, kerr := uint32(0), l.ResetData(spec)
		if kerr == nil {
			kret, kerr = l.Run(name, pkt)
		}
		switch {
		case kerr != nil:
			fmt.Fprintf(env.Stdout, "%s: run: BPF_PROG_TEST_RUN failed: %v\n", name, kerr)
			problems = append(problems, name+" did not run in the kernel")
		case eerr != nil || res.Error != "":
			msg := ""
			if eerr != nil {
				msg = eerr.Error()
			} else {
				msg = res.Error
			}
			fmt.Fprintf(env.Stdout, "%s: run: kernel returned %d; the emulator failed: %s\n", name, kret, msg)
			problems = append(problems, name+": the emulator could not run it")
		case uint32(res.Retval) != kret:
			fmt.Fprintf(env.Stdout, "%s: run: kernel returned %d, the emulator %d\n", name, kret, uint32(res.Retval))
			problems = append(problems, fmt.Sprintf("%s returned %d in the kernel, %d on the emulator", name, kret, uint32(res.Retval)))
		default:
			fmt.Fprintf(env.Stdout, "%s: run: kernel and emulator both returned %d (%d tail calls on the emulator)\n", name, kret, res.TailCalls)
		}
	}
	n := len(l.Order)
	if cerr := unload(); cerr != nil {
		return fmt.Errorf("%s: unloading: %w", target, cerr)
	}
	fmt.Fprintf(env.Stdout, "unloaded %d programs\n", n)
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d problems (first: %s)", target, len(problems), problems[0])
	}
	fmt.Fprintf(env.Stdout, "identical: %d functions in %d programs\n", nfuncs, n)
	return nil
}
