package cli

import (
	"fmt"
	"os"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/ui"
)

// cmdOpen starts the terminal UI on TARGET (any target dump takes).
func cmdOpen(args []string, env Env) error {
	if isTrampolineDump(args) {
		return cmdOpenTrampoline(args, env)
	}
	fs := newFlagSet("open", env)
	theme := fs.String("theme", "auto", "")
	arm := fs.String("arm64-profile", "", "")
	x86 := fs.String("x86_64-profile", "", "")
	syntax := fs.String("syntax", "", "")
	autoplay := fs.Bool("autoplay", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("open", err)
	}
	if len(pos) > 1 {
		return usagef("open takes at most one TARGET, got %d", len(pos))
	}
	switch *theme {
	case "auto", "dark", "light", "high-contrast", "mono":
	default:
		return usagef("open: --theme must be auto, dark, light, high-contrast or mono, not %q", *theme)
	}
	target := DefaultScenario
	if len(pos) == 1 {
		target = pos[0]
	}
	if *autoplay {
		return cmdTour([]string{target, "--theme", *theme}, env) // the scenario's tour, playing
	}
	// Check the target before taking over the terminal, so a bad one is
	// one line on stderr like everywhere else.
	t, err := session.LoadTarget(target)
	if err != nil {
		return err
	}
	if !env.IsTerminal {
		return fmt.Errorf("open: standard output is not a terminal (use jitscope dump %s)", target)
	}
	if !env.canDraw() {
		return fmt.Errorf("open: TERM=dumb cannot draw the UI (no cursor movement); use jitscope dump %s", target)
	}
	prof := map[kernel.Arch]string{}
	if *arm != "" {
		prof[kernel.ARM64] = *arm
	}
	if *x86 != "" {
		prof[kernel.X86_64] = *x86
	}
	return ui.Run(ui.Options{Target: target, Loaded: t, Theme: *theme, Profiles: prof, Syntax: session.Syntax(*syntax)}, os.Stdin, env.Stdout)
}
