// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jitscope/jitscope/record"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/walk"
)

const recordUsage = `  jitscope record TOUR -o FILE.cast [flags]   a guided tour or walkthrough as an asciicast v2 file,
                                rendered without a terminal; replay with asciinema play FILE.cast
      TOUR                      a scenario with a tour (built-in name or .scn), or a walkthrough
                                script (.walk: scenario, caption, goto, key, type, wait, play, pause)
      -o FILE                   where to write (- for standard output); never replaced without --force
      --size WxH                terminal size (default 120x36)
      --speed X                 playback speed (default 1; 2 is twice as fast)
      --theme T                 dark, light, high-contrast, mono (default dark)
      --timestamp N             the header's Unix time (default now), for byte-identical files
      --idle-limit D            longest pause between two frames (default 30s)
      --force                   replace FILE
`

func cmdRecord(args []string, env Env) error {
	fs := newFlagSet("record", env)
	out := fs.String("o", "", "")
	size := fs.String("size", "120x36", "")
	speed := fs.Float64("speed", 1, "")
	theme := fs.String("theme", "dark", "")
	stamp := fs.Int64("timestamp", 0, "")
	idle := fs.Duration("idle-limit", 30*time.Second, "")
	force := fs.Bool("force", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("record", err)
	}
	if len(pos) != 1 {
		return usagef("record takes one TOUR, got %d", len(pos))
	}
	if *out == "" {
		return usagef("record: -o FILE.cast is required (- for standard output)")
	}
	w, h, err := parseSize(*size)
	if err != nil {
		return usagef("record: --size %q: %v", *size, err)
	}
	if *speed <= 0 || *speed > 100 {
		return usagef("record: --speed %v: want a factor above 0, at most 100", *speed)
	}
	if *idle <= 0 {
		return usagef("record: --idle-limit %v: want a positive duration", *idle)
	}
	if *stamp < 0 {
		return usagef("record: --timestamp %d: want a Unix time", *stamp)
	}
	if _, err := themes.ByName(*theme, true); err != nil {
		return usagef("record: --theme: %v", err)
	}
	opt := record.Options{Width: w, Height: h, Speed: *speed, Theme: *theme, IdleLimit: *idle, Timestamp: time.Now().Unix()}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "timestamp" {
			opt.Timestamp = *stamp
		}
	})
	target := pos[0]
	if strings.HasSuffix(target, ".walk") {
		data, err := os.ReadFile(target)
		if err != nil {
			return fmt.Errorf("%s: %w", target, unwrapPath(err))
		}
		s, err := walk.Parse(target, data)
		if err != nil {
			return err
		}
		// A scenario file is named relative to the script.
		if !scenarios.IsBuiltin(s.Scenario) && !filepath.IsAbs(s.Scenario) {
			s.Scenario = filepath.Join(filepath.Dir(target), s.Scenario)
		}
		return writeOutput(env, *out, *force, func(wr io.Writer) error { return record.Script(wr, s, opt) })
	}
	return writeOutput(env, *out, *force, func(wr io.Writer) error { return record.Tour(wr, target, opt) })
}

// parseSize reads "WxH".
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want WIDTHxHEIGHT such as 120x36")
	}
	if w < record.MinWidth || h < record.MinHeight || w > 1000 || h > 1000 {
		return 0, 0, fmt.Errorf("want at least %dx%d and at most 1000x1000", record.MinWidth, record.MinHeight)
	}
	return w, h, nil
}
