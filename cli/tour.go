// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"
	"os"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/ui"
)

const tourUsage = `  jitscope tour NAME [flags]    play a scenario's guided tour in the terminal UI: the stops in turn at a
                                reading pace, each explained in a caption bar; space pauses, ←/→ step
                                between stops (as t/ctrl+t), +/- change the speed, esc leaves the tour
                                (t walks it on by hand), q quits; ? lists every key
      --autoplay                advance by itself (the default); --autoplay=false starts paused
      --speed X                 playback speed (default 1)
      --theme T                 auto, dark, light, high-contrast, mono
      --exit                    quit after the last stop (for asciinema rec -c 'jitscope tour NAME --exit')
`

// cmdTour plays NAME's guided tour in the terminal UI.
func cmdTour(args []string, env Env) error {
	fs := newFlagSet("tour", env)
	autoplay := fs.Bool("autoplay", true, "")
	speed := fs.Float64("speed", 1, "")
	theme := fs.String("theme", "auto", "")
	exit := fs.Bool("exit", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("tour", err)
	}
	if len(pos) != 1 {
		return usagef("tour takes one NAME (a scenario with a guided tour), got %d", len(pos))
	}
	if *speed <= 0 || *speed > 100 {
		return usagef("tour: --speed %v: want a factor above 0, at most 100", *speed)
	}
	if _, err := themes.ByName(*theme, true); err != nil {
		return usagef("tour: --theme: %v", err)
	}
	name := pos[0]
	// Everything is checked before the terminal is taken over, so a bad
	// name is one line on stderr.
	sc, err := scenarios.LoadScenario(name)
	if err != nil {
		return err
	}
	if len(sc.Tour) == 0 {
		return fmt.Errorf("%s: no guided tour (every built-in scenario has one: jitscope list)", name)
	}
	if !env.IsTerminal {
		return fmt.Errorf("tour: standard output is not a terminal (record it instead: jitscope record %s -o %s.cast)", name, name)
	}
	return ui.RunTour(ui.Options{Target: name, Theme: *theme},
		ui.TourOptions{Autoplay: *autoplay, Speed: *speed, Exit: *exit}, os.Stdin, env.Stdout)
}
