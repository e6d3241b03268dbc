// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/tramp"
	"github.com/jitscope/jitscope/ui"
)

const trampolineUsage = `  jitscope dump --trampoline 'PROTOTYPE' [flags]   BPF trampolines for a traced function
      --arch arm64|x86_64       architecture (default arm64)
      --profile P               trampoline JIT version to list (default: the newest)
      --btf FILE                read the prototype of function PROTOTYPE from FILE's BTF
      --fentry N, --fexit N, --fmod-ret N   programs attached (default: 1 fentry)
      --flags F[,F]             BPF_TRAMP_F_ flags instead of the kernel's choice
                                (RESTORE_REGS, CALL_ORIG, SKIP_FRAME, IP_ARG, RET_FENTRY_RET)
      --ip-arg                  a program calls bpf_get_func_ip (BPF_TRAMP_F_IP_ARG)
      --emulate                 also run each version's trampoline on the emulator and show
                                what the program read for each argument
      --format text|json        output format (default text)
  jitscope open --trampoline 'PROTOTYPE' [flags]   the same in the terminal UI (placement,
                                stack, listing, emulated call per version); flags as above and --theme
`

// isTrampolineDump reports whether dump's arguments ask for a trampoline.
func isTrampolineDump(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--trampoline" || a == "-trampoline" || strings.HasPrefix(a, "--trampoline=") || strings.HasPrefix(a, "-trampoline=") {
			return true
		}
	}
	return false
}

// trampArgs are the parsed flags of dump/open --trampoline.
type trampArgs struct {
	opt     tramp.Options
	format  string
	theme   string
	emulate bool
}

// parseTrampArgs reads the --trampoline flags of command cmd.
func parseTrampArgs(cmd string, args []string, env Env) (*trampArgs, error) {
	fs := newFlagSet(cmd, env)
	proto := fs.String("trampoline", "", "")
	archFlag := fs.String("arch", "arm64", "")
	profFlag := fs.String("profile", "", "")
	format := fs.String("format", "text", "")
	theme := fs.String("theme", "auto", "")
	btfFile := fs.String("btf", "", "")
	fentry := fs.Int("fentry", -1, "")
	fexit := fs.Int("fexit", 0, "")
	fmodRet := fs.Int("fmod-ret", 0, "")
	flagList := fs.String("flags", "", "")
	ipArg := fs.Bool("ip-arg", false, "")
	emulate := fs.Bool("emulate", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, flagError(cmd, err)
	}
	if len(pos) != 0 {
		return nil, usagef("%s --trampoline takes no TARGET (got %q): the prototype is the flag's value", cmd, pos[0])
	}
	if *format != "text" && *format != "json" {
		return nil, usagef("%s: --format must be text or json, not %q", cmd, *format)
	}
	if strings.TrimSpace(*proto) == "" {
		return nil, usagef("%s: --trampoline needs a C prototype (or, with --btf, a function name)", cmd)
	}
	arch, err := kernel.ParseArch(*archFlag)
	if err != nil {
		return nil, usagef("%s: %v", cmd, err)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"fexit", *fexit}, {"fmod-ret", *fmodRet}} {
		if n.v < 0 || n.v > 38 {
			return nil, usagef("%s: --%s %d: between 0 and 38 programs (BPF_MAX_TRAMP_LINKS)", cmd, n.name, n.v)
		}
	}
	if *fentry < -1 || *fentry > 38 {
		return nil, usagef("%s: --fentry %d: between 0 and 38 programs (BPF_MAX_TRAMP_LINKS)", cmd, *fentry)
	}
	nFentry := *fentry
	if nFentry < 0 {
		nFentry = 0
		if *fexit == 0 && *fmodRet == 0 {
			nFentry = 1
		}
	}
	if nFentry+*fexit+*fmodRet == 0 {
		return nil, usagef("%s: no program attached: give --fentry, --fexit or --fmod-ret a count above 0", cmd)
	}
	var flags jit.TrampFlags
	if *flagList != "" {
		if flags, err = jit.ParseTrampFlags(*flagList); err != nil {
			return nil, usagef("%s: --flags: %v", cmd, err)
		}
		if flags == 0 {
			return nil, usagef("%s: --flags %q names no flag", cmd, *flagList)
		}
	}
	var f *abi.Func
	if *btfFile != "" {
		f, err = abi.FromBTF(*btfFile, strings.TrimSpace(*proto))
	} else {
		f, err = abi.ParsePrototype(*proto)
		if err != nil {
			err = fmt.Errorf("--trampoline %q: %w", *proto, err)
		}
	}
	if err != nil {
		return nil, err
	}
	if _, err := jit.LookupTrampVersion(arch, *profFlag); *profFlag != "" && err != nil {
		return nil, err
	}
	return &trampArgs{
		opt:    tramp.Options{Func: f, Arch: arch, Version: *profFlag, Fentry: nFentry, Fexit: *fexit, FmodRet: *fmodRet, Flags: flags, IPArg: *ipArg},
		format: *format, theme: *theme, emulate: *emulate,
	}, nil
}

// cmdDumpTrampoline is `jitscope dump --trampoline PROTO`.
func cmdDumpTrampoline(args []string, env Env) error {
	ta, err := parseTrampArgs("dump", args, env)
	if err != nil {
		return err
	}
	r, err := tramp.Build(ta.opt)
	if err != nil {
		return fmt.Errorf("%s: %w", ta.opt.Func.Name, err)
	}
	if ta.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tramp.ToJSON(r))
	}
	if err := tramp.WriteText(env.Stdout, r); err != nil {
		return err
	}
	if ta.emulate {
		fmt.Fprintln(env.Stdout)
		tramp.WriteEmulated(env.Stdout, r)
	}
	return nil
}

// cmdOpenTrampoline is `jitscope open --trampoline PROTO`: the TUI view.
func cmdOpenTrampoline(args []string, env Env) error {
	ta, err := parseTrampArgs("open", args, env)
	if err != nil {
		return err
	}
	switch ta.theme {
	case "auto", "dark", "light", "high-contrast", "mono":
	default:
		return usagef("open: --theme must be auto, dark, light, high-contrast or mono, not %q", ta.theme)
	}
	if !env.IsTerminal {
		return fmt.Errorf("open: standard output is not a terminal (use jitscope dump --trampoline)")
	}
	o := ta.opt
	return ui.RunTrampoline(ui.TrampOptions{Func: o.Func, Arch: o.Arch, Version: o.Version, Fentry: o.Fentry, Fexit: o.Fexit,
		FmodRet: o.FmodRet, Flags: o.Flags, IPArg: o.IPArg, Theme: ta.theme}, os.Stdin, env.Stdout)
}

// listTrampolines adds the trampoline JIT versions to `jitscope list`.
func listTrampolines(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ARCH\tTRAMPOLINE\tKERNEL\tSUMMARY (dump --trampoline PROTO --profile TRAMPOLINE)")
	for _, a := range jit.Arches() {
		for _, v := range jit.TrampVersions(a) {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a, v.Name, v.Kernel, v.Summary)
		}
	}
}
