// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/tramp"
)

const trampolineUsage = `  jitscope dump --trampoline 'PROTOTYPE' [flags]   BPF trampolines for a traced function
      --arch arm64|x86_64       architecture (default arm64)
      --profile P               trampoline JIT version to list (default: the newest)
      --btf FILE                read the prototype of function PROTOTYPE from FILE's BTF
      --fentry N, --fexit N, --fmod-ret N   programs attached (default: 1 fentry)
      --flags F[,F]             BPF_TRAMP_F_ flags instead of the kernel's choice
                                (RESTORE_REGS, CALL_ORIG, SKIP_FRAME, IP_ARG, RET_FENTRY_RET)
      --ip-arg                  a program calls bpf_get_func_ip (BPF_TRAMP_F_IP_ARG)
      --format text|json        output format (default text)
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

// cmdDumpTrampoline is `jitscope dump --trampoline PROTO`.
func cmdDumpTrampoline(args []string, env Env) error {
	fs := newFlagSet("dump", env)
	proto := fs.String("trampoline", "", "")
	archFlag := fs.String("arch", "arm64", "")
	profFlag := fs.String("profile", "", "")
	format := fs.String("format", "text", "")
	btfFile := fs.String("btf", "", "")
	fentry := fs.Int("fentry", -1, "")
	fexit := fs.Int("fexit", 0, "")
	fmodRet := fs.Int("fmod-ret", 0, "")
	flagList := fs.String("flags", "", "")
	ipArg := fs.Bool("ip-arg", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("dump", err)
	}
	if len(pos) != 0 {
		return usagef("dump --trampoline takes no TARGET (got %q): the prototype is the flag's value", pos[0])
	}
	if *format != "text" && *format != "json" {
		return usagef("dump: --format must be text or json, not %q", *format)
	}
	if strings.TrimSpace(*proto) == "" {
		return usagef("dump: --trampoline needs a C prototype (or, with --btf, a function name)")
	}
	arch, err := kernel.ParseArch(*archFlag)
	if err != nil {
		return usagef("dump: %v", err)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"fexit", *fexit}, {"fmod-ret", *fmodRet}} {
		if n.v < 0 || n.v > 38 {
			return usagef("dump: --%s %d: between 0 and 38 programs (BPF_MAX_TRAMP_LINKS)", n.name, n.v)
		}
	}
	if *fentry < -1 || *fentry > 38 {
		return usagef("dump: --fentry %d: between 0 and 38 programs (BPF_MAX_TRAMP_LINKS)", *fentry)
	}
	nFentry := *fentry
	if nFentry < 0 {
		nFentry = 0
		if *fexit == 0 && *fmodRet == 0 {
			nFentry = 1
		}
	}
	if nFentry+*fexit+*fmodRet == 0 {
		return usagef("dump: no program attached: give --fentry, --fexit or --fmod-ret a count above 0")
	}
	var flags jit.TrampFlags
	if *flagList != "" {
		if flags, err = jit.ParseTrampFlags(*flagList); err != nil {
			return usagef("dump: --flags: %v", err)
		}
		if flags == 0 {
			return usagef("dump: --flags %q names no flag", *flagList)
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
		return err
	}
	r, err := tramp.Build(tramp.Options{Func: f, Arch: arch, Version: *profFlag, Fentry: nFentry, Fexit: *fexit, FmodRet: *fmodRet, Flags: flags, IPArg: *ipArg})
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tramp.ToJSON(r))
	}
	return tramp.WriteText(env.Stdout, r)
}
