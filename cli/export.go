// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"flag"
	"io"
	"math"

	"github.com/jitscope/jitscope/export"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

const exportUsage = `  jitscope export TARGET [flags]   the listings for a post, a talk or a patch review
      --html                    one self-contained HTML page (no network): arm64 | x86-64 side by side,
                                arrows as SVG, annotations, the guided tour's stops (same as --format html)
      --format html|ansi|text   text: seed 000's form, for a commit message; ansi: the same in colour
      -o FILE                   where to write (default: standard output for ansi and text); never
                                replaced without --force
      --arch A                  ansi and text: the architecture (default arm64)
      --arm64-profile P, --x86_64-profile P, --syntax att|att-legacy|intel
      --theme T                 dark, light, high-contrast, mono (default dark)
      --force                   replace FILE
`

// cmdExport writes TARGET's listings as HTML, ANSI text or plain text.
func cmdExport(args []string, env Env) error {
	fs := newFlagSet("export", env)
	htmlFlag := fs.Bool("html", false, "")
	format := fs.String("format", "", "")
	out := fs.String("o", "", "")
	arch := fs.String("arch", "arm64", "")
	arm := fs.String("arm64-profile", "", "")
	x86 := fs.String("x86_64-profile", "", "")
	syntax := fs.String("syntax", "", "")
	theme := fs.String("theme", "dark", "")
	force := fs.Bool("force", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("export", err)
	}
	if len(pos) != 1 {
		return usagef("export takes one TARGET, got %d", len(pos))
	}
	switch {
	case *htmlFlag && *format != "" && *format != "html":
		return usagef("export: --html and --format %s disagree", *format)
	case *htmlFlag:
		*format = "html"
	case *format == "":
		return usagef("export: give --html or --format html|ansi|text")
	}
	switch *format {
	case "html", "ansi", "text":
	default:
		return usagef("export: --format must be html, ansi or text, not %q", *format)
	}
	if *format == "html" && *out == "" {
		return usagef("export: --html needs -o FILE.html (- for standard output)")
	}
	if *out == "" {
		*out = "-"
	}
	th, err := themes.ByName(*theme, true)
	if err != nil {
		return usagef("export: --theme: %v", err)
	}
	a, err := kernel.ParseArch(*arch)
	if err != nil {
		return usagef("export: --arch: %v", err)
	}
	prof := map[kernel.Arch]string{}
	if *arm != "" {
		prof[kernel.ARM64] = *arm
	}
	if *x86 != "" {
		prof[kernel.X86_64] = *x86
	}
	// Listed whole, however large: an export reads every line.
	opts := session.Options{Profiles: prof, Syntax: session.Syntax(*syntax), IndexAbove: math.MaxInt}
	if *format != "html" {
		opts.Arches = []kernel.Arch{a}
	}
	target := pos[0]
	t, err := session.LoadTarget(target)
	if err != nil {
		return err
	}
	if t.Capture != nil {
		// A kernel capture is one architecture's code: show that one
		// unless --arch asks for another (which then says why not).
		archSet := false
		fs.Visit(func(f *flag.Flag) { archSet = archSet || f.Name == "arch" })
		if !archSet || *format == "html" {
			opts.Arches = []kernel.Arch{t.Capture.Kernel.Arch}
		}
	}
	sess := session.FromTarget(t, opts)
	for _, l := range sess.Listings {
		if l.Err != nil && *format != "html" {
			return l.Err
		}
	}
	var tour *session.Tour
	if *format == "html" {
		// A target that is no scenario has no stops; one whose tour does
		// not load is exported without it.
		tour, _ = session.ResolveTour(target)
	}
	return writeOutput(env, *out, *force, func(w io.Writer) error {
		switch *format {
		case "html":
			return export.HTML(w, sess, export.HTMLOptions{Theme: th, Tour: tour})
		case "ansi":
			return export.ANSI(w, sess.Listings[0], th)
		}
		return export.Text(w, sess.Listings[0])
	})
}
