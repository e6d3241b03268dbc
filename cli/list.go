package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
)

func cmdList(args []string, env Env) error {
	fs := newFlagSet("list", env)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("list", err)
	}
	if len(pos) != 0 {
		return usagef("list takes no arguments")
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tDESCRIPTION")
	for _, s := range scenarios.Builtins() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Description)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ARCH\tPROFILE\tKERNEL\tSUMMARY")
	for _, a := range jit.Arches() {
		// The compatibility profiles (v5.15, v6.6) say in their summary
		// that they are compatibility models only.
		for _, p := range session.Profiles(a) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a, p.Name, p.Kernel, p.Summary)
		}
	}
	listTrampolines(tw)
	return tw.Flush()
}
