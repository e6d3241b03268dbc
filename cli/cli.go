// Package cli implements jitscope's command line: the subcommands of the
// DESIGN.md contract (list, dump, run...), each a function from arguments to
// output and an exit status, so tests drive them without a process.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/jitscope/jitscope/ui"
)

// DefaultScenario is what `jitscope` shows with no arguments: seed 000's story.
const DefaultScenario = "bpf2bpf-tailcall"

// Env is what a command may touch.
type Env struct {
	Stdout, Stderr io.Writer
	// IsTerminal reports whether Stdout is a terminal.
	IsTerminal bool
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// canDraw reports whether the terminal can show the UI: it must be a
// terminal, and not TERM=dumb, which has no cursor addressing (Emacs shell
// buffers, some CI consoles); there the listing is printed instead.
func (e Env) canDraw() bool { return e.IsTerminal && e.getenv("TERM") != "dumb" }

// Main runs jitscope with args (without the program name) and returns the
// exit status. Every failure is one line on stderr.
func Main(args []string, env Env) (status int) {
	defer func() {
		if r := recover(); r != nil {
			// A bug must still end in one line, not a goroutine dump.
			fmt.Fprintf(env.Stderr, "jitscope: internal error: %v\n", r)
			status = 1
		}
	}()
	if err := run(args, env); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(env.Stderr, "jitscope: %s (see `jitscope help`)\n", ue.msg)
			return 1
		}
		fmt.Fprintf(env.Stderr, "jitscope: %s\n", oneLine(err.Error()))
		return 1
	}
	return 0
}

// MainOS runs Main on the process's arguments and standard streams.
func MainOS() int {
	return Main(os.Args[1:], Env{Stdout: os.Stdout, Stderr: os.Stderr, IsTerminal: term.IsTerminal(os.Stdout.Fd())})
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.ReplaceAll(s, "\n", "; ")
}

func run(args []string, env Env) error {
	if len(args) == 0 {
		if env.canDraw() {
			return ui.Run(ui.Options{Target: DefaultScenario}, os.Stdin, env.Stdout)
		}
		// Without a terminal (or with TERM=dumb) the default scenario's
		// listing is printed.
		return cmdDump([]string{DefaultScenario}, env)
	}
	switch args[0] {
	case "list":
		return cmdList(args[1:], env)
	case "dump":
		return cmdDump(args[1:], env)
	case "run":
		return cmdRun(args[1:], env)
	case "show":
		return cmdShow(args[1:], env)
	case "open":
		return cmdOpen(args[1:], env)
	case "gen":
		return cmdGen(args[1:], env)
	case "tour":
		return cmdTour(args[1:], env)
	case "record":
		return cmdRecord(args[1:], env)
	case "export":
		return cmdExport(args[1:], env)
	case "kernel":
		return cmdKernel(args[1:], env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usageText)
		return nil
	}
	return usagef("unknown command %q", args[0])
}

const usageText = `jitscope: explore the Linux kernel's eBPF JITs (arm64, x86-64)

usage:
  jitscope                      show the default scenario (` + DefaultScenario + `)
  jitscope open [TARGET] [flags] the terminal UI on TARGET (default: the default scenario)
      --theme auto|dark|light|high-contrast|mono
      --arm64-profile P, --x86_64-profile P, --syntax att|att-legacy|intel
      --autoplay                play the scenario's guided tour (jitscope tour TARGET)
  jitscope list                 built-in scenarios and JIT profiles per architecture
  jitscope dump TARGET [flags]  the JIT's machine code for TARGET
      --arch arm64|x86_64       architecture (default arm64)
      --profile P               kernel profile (default: the scenario's, else the newest)
      --format text|json        output format (default text)
      --plain                   text without arrows and annotations
      --syntax att|att-legacy|intel   x86 syntax (default att; att-legacy for v5.10)
      --compare                 for a kernel capture: compare with the kernel's image
      --slot MAP[KEY]=PROG      fill (or with no PROG, empty) a prog array slot first (repeatable)
      --verifier profile|host|P compile what the kernel's JIT receives: the verifier's rewrites
                                (context fields, map lookups, division guards, helper addresses)
                                with the profile's facts (x86_64 v6.18; arm64 and x86_64 v6.1),
                                profile P's (as --verifier profile --profile P) or this kernel's
      --rewrites                with --verifier: BPF as written beside BPF as the JIT sees it
      --object OBJ              for a kernel capture: its program from OBJ as written, through the
                                verifier model with the capture's facts, JITed at its addresses
` + trampolineUsage + `
  jitscope run TARGET [flags]   execute the machine code on the emulator
      --arch, --profile         as for dump
      --entry PROG              program to run (default: the first)
      --format text|json        output format (default text)
      --max-steps N             stop after N instructions (default 1000000; --steps is the same)
      --max-mem SIZE            emulated memory limit, e.g. 64M, 1G (default 256M)
      --slot MAP[KEY]=PROG      fill/empty a prog array slot before loading (repeatable)
      --then MAP[KEY]=PROG      after the run, update the slot (text pokes) and run again (repeatable)
      --packet NAME|0xHEX       the scenario's packet NAME (default: its first), or these bytes
      --verifier profile|host   run the image of what the kernel's JIT receives (as dump
                                --verifier) on a kernel memory model: struct sk_buff / xdp_buff
                                filled as BPF_PROG_TEST_RUN fills them, kernel functions by
                                address, per-CPU data, jiffies, may_goto's time slice

  jitscope show NAME [flags]    print a built-in scenario's source (save it, edit it, run the file)
      --packets                 list the scenario's packets (for run --packet)
      --tour                    its guided tour, every stop resolved (address, instruction, step)
      --compat                  prog array compatibility per kernel (5.15, 6.6, 6.12, 6.12.117):
                                each program load, freplace attach and slot update, allowed or
                                refused with the rule and the values compared
      --kernel K                with --compat: only kernel K
      --format text|json        output format of --tour and --compat (default text)
    NAME may also be a scenario file for --packets, --tour and --compat.

` + genUsage + kernelUsage + tourUsage + recordUsage + exportUsage + `
TARGET is a built-in scenario name, a scenario file (.scn), a BPF ELF object
(clang -target bpf), or a kernel capture directory (jitscope-capture/1).
`

// parseInterspersed parses flags that may come before or after positional
// arguments ("dump TARGET --arch arm64") and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// flagError turns the flag package's multi-line complaints into usage errors.
func flagError(cmd string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usagef("%s: %v", cmd, err)
}
