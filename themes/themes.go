// SPDX-License-Identifier: GPL-2.0-only

// Package themes holds jitscope's colour themes: dark, light, a
// high-contrast one built on the Okabe-Ito palette (safe for the common
// forms of colour blindness), and mono for NO_COLOR. Each theme is a struct
// of lipgloss styles built once; the instruction token colours come from a
// chroma style (chroma serves only as a style source: the listing's tokens
// are known from the decoder, no lexer runs).
//
// Nothing here encodes meaning in colour alone: the UI draws direction,
// emphasis and regions with glyphs and weight too, so mono stays readable.
package themes

import (
	"fmt"
	"image/color"
	"os"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/styles"

	"github.com/jitscope/jitscope/jit"
)

// Token classifies a piece of instruction text.
type Token uint8

// Token kinds of an instruction line.
const (
	TokPlain     Token = iota // spaces, separators
	TokMnemonic               // "stp", "b.cs", "movabs"
	TokRegister               // "x26", "%rax", "w10"
	TokImmediate              // "#0x21", "$0x1", "16"
	TokAddress                // branch and call targets
	TokSymbol                 // "<classifier_0+0x24>"
	TokPunct                  // brackets, commas, "!", "lsl"
	TokComment                // "// notes"
	NumTokens
)

// Theme is a complete set of styles.
type Theme struct {
	Name string
	Dark bool
	Mono bool

	Text, Dim, Title, Error lipgloss.Style
	// PaneTitle heads each listing; Focused marks the pane keys act on.
	PaneTitle, PaneTitleFocused lipgloss.Style
	Header                      lipgloss.Style // function prototype rows
	Addr, Bytes, BPF            lipgloss.Style
	Status, StatusKey           lipgloss.Style
	Overlay, OverlayTitle       lipgloss.Style
	Selected                    lipgloss.Style // the chosen item of a picker

	Tokens [NumTokens]lipgloss.Style

	// Row backgrounds: the cursor (focused and not), the other pane's lines
	// of the BPF instruction under the cursor (Compiler Explorer's linked
	// highlight), this pane's other lines of it, and search matches.
	Cursor, CursorBlur, Linked, Sibling, Match lipgloss.Style

	// Bands are the BPF column's backgrounds, one per BPF instruction in
	// turn, so neighbouring instructions' lines are told apart.
	Bands []lipgloss.Style

	// Regions colour the marker column per code region.
	Regions map[jit.RegionKind]lipgloss.Style

	// Arrows are the gutter colours, chosen by a hash of the target;
	// ArrowHot is for the arrows touching the cursor line.
	Arrows   []lipgloss.Style
	ArrowHot lipgloss.Style

	// Help styles for bubbles/help.
	HelpKey, HelpDesc, HelpSep lipgloss.Style
}

// Names lists the theme names accepted by ByName.
var Names = []string{"auto", "dark", "light", "high-contrast", "mono"}

// NoColor reports whether the NO_COLOR convention asks for no colour
// (https://no-color.org: set and not empty).
func NoColor() bool { return os.Getenv("NO_COLOR") != "" }

// ByName returns the named theme. "auto" (and "") picks dark or light from
// dark, the terminal's background as detected; NO_COLOR turns every
// coloured theme into mono.
func ByName(name string, dark bool) (*Theme, error) {
	if NoColor() && name != "mono" {
		return Mono(), nil
	}
	switch name {
	case "", "auto":
		if dark {
			return Dark(), nil
		}
		return Light(), nil
	case "dark":
		return Dark(), nil
	case "light":
		return Light(), nil
	case "high-contrast", "hc":
		return HighContrast(dark), nil
	case "mono", "none":
		return Mono(), nil
	}
	return nil, fmt.Errorf("unknown theme %q (have %s)", name, strings.Join(Names, ", "))
}

func fg(c string) lipgloss.Style { return lipgloss.NewStyle().Foreground(lipgloss.Color(c)) }
func bg(c string) lipgloss.Style { return lipgloss.NewStyle().Background(lipgloss.Color(c)) }

// fromChroma converts a chroma style entry to a lipgloss style.
func fromChroma(e chroma.StyleEntry) lipgloss.Style {
	s := lipgloss.NewStyle()
	if e.Colour.IsSet() {
		s = s.Foreground(lipgloss.Color(e.Colour.String()))
	}
	if e.Bold == chroma.Yes {
		s = s.Bold(true)
	}
	if e.Italic == chroma.Yes {
		s = s.Italic(true)
	}
	if e.Underline == chroma.Yes {
		s = s.Underline(true)
	}
	return s
}

// tokenStyles maps the listing's tokens onto a chroma style's entries, the
// way an assembly lexer would classify them.
func tokenStyles(cs *chroma.Style) [NumTokens]lipgloss.Style {
	var t [NumTokens]lipgloss.Style
	t[TokPlain] = fromChroma(cs.Get(chroma.Text))
	t[TokMnemonic] = fromChroma(cs.Get(chroma.Keyword)).Bold(false)
	t[TokRegister] = fromChroma(cs.Get(chroma.NameVariable)).Bold(false)
	t[TokImmediate] = fromChroma(cs.Get(chroma.LiteralNumber)).Bold(false)
	t[TokAddress] = fromChroma(cs.Get(chroma.NameLabel)).Bold(false)
	t[TokSymbol] = fromChroma(cs.Get(chroma.NameFunction))
	t[TokPunct] = fromChroma(cs.Get(chroma.Punctuation)).Bold(false)
	t[TokComment] = fromChroma(cs.Get(chroma.Comment))
	return t
}

// palette is what differs between the coloured themes.
type palette struct {
	name                                  string
	dark                                  bool
	chroma                                *chroma.Style
	text, dim, faint, title, err          string
	cursor, cursorBlur, linked, sib, mt   string
	bands                                 []string
	arrows                                []string
	hot                                   string
	prologue, tcc, pad, tail, epi, poke   string
	statusBG, statusFG, overlayBG, accent string
}

func build(p palette) *Theme {
	t := &Theme{Name: p.name, Dark: p.dark}
	t.Text = fg(p.text)
	t.Dim = fg(p.dim)
	t.Title = fg(p.title).Bold(true)
	t.Error = fg(p.err).Bold(true)
	t.PaneTitle = fg(p.dim).Background(lipgloss.Color(p.statusBG))
	t.PaneTitleFocused = fg(p.title).Background(lipgloss.Color(p.statusBG)).Bold(true)
	t.Header = fg(p.title).Bold(true)
	t.Addr = fg(p.faint)
	t.Bytes = fg(p.faint)
	t.BPF = fg(p.dim)
	t.Status = fg(p.statusFG).Background(lipgloss.Color(p.statusBG))
	t.StatusKey = fg(p.accent).Background(lipgloss.Color(p.statusBG)).Bold(true)
	t.Overlay = fg(p.text).Background(lipgloss.Color(p.overlayBG))
	t.OverlayTitle = fg(p.accent).Background(lipgloss.Color(p.overlayBG)).Bold(true)
	t.Selected = fg(p.text).Background(lipgloss.Color(p.cursor)).Bold(true)
	t.Tokens = tokenStyles(p.chroma)
	t.Cursor = bg(p.cursor)
	t.CursorBlur = bg(p.cursorBlur)
	t.Linked = bg(p.linked)
	t.Sibling = bg(p.sib)
	t.Match = bg(p.mt)
	for _, c := range p.bands {
		t.Bands = append(t.Bands, bg(c))
	}
	for _, c := range p.arrows {
		t.Arrows = append(t.Arrows, fg(c))
	}
	t.ArrowHot = fg(p.hot).Bold(true)
	t.Regions = map[jit.RegionKind]lipgloss.Style{
		jit.RegionPrologue:   fg(p.prologue),
		jit.RegionPatchSite:  fg(p.poke),
		jit.RegionTCCInit:    fg(p.tcc).Bold(true),
		jit.RegionLandingPad: fg(p.pad).Bold(true),
		jit.RegionStackSetup: fg(p.prologue),
		jit.RegionTailCall:   fg(p.tail),
		jit.RegionEpilogue:   fg(p.epi),
		jit.RegionPLT:        fg(p.dim),
		jit.RegionPokeTarget: fg(p.poke).Bold(true),
		jit.RegionPokeBypass: fg(p.poke),
	}
	t.HelpKey = fg(p.accent).Bold(true)
	t.HelpDesc = fg(p.text)
	t.HelpSep = fg(p.faint)
	return t
}

// Dark is the default theme for dark terminals, coloured after chroma's
// github-dark.
func Dark() *Theme {
	return build(palette{
		name: "dark", dark: true, chroma: styles.Get("github-dark"),
		text: "#e6edf3", dim: "#8b949e", faint: "#6e7681", title: "#f0f6fc", err: "#f85149",
		cursor: "#264f78", cursorBlur: "#30363d", linked: "#4b3a6e", sib: "#1c2a3a", mt: "#6b5a00",
		bands:    []string{"#16263a", "#2a1d35", "#163222", "#352a16", "#351a22", "#123132"},
		arrows:   []string{"#ff7b72", "#7ee787", "#79c0ff", "#d2a8ff", "#ffa657", "#56d4dd"},
		hot:      "#f2cc60",
		prologue: "#79c0ff", tcc: "#ffa657", pad: "#ff7b72", tail: "#d2a8ff", epi: "#56d364", poke: "#f0883e",
		statusBG: "#161b22", statusFG: "#c9d1d9", overlayBG: "#1c2128", accent: "#58a6ff",
	})
}

// Light is the theme for light terminals, coloured after chroma's github.
func Light() *Theme {
	return build(palette{
		name: "light", dark: false, chroma: styles.Get("github"),
		text: "#1f2328", dim: "#57606a", faint: "#6e7781", title: "#0d1117", err: "#cf222e",
		cursor: "#b6d7ff", cursorBlur: "#d0d7de", linked: "#e4d4ff", sib: "#eef2f6", mt: "#fff1a8",
		bands:    []string{"#e8f1fb", "#f3eafb", "#e7f6eb", "#fbf3e2", "#fbe9ee", "#e2f5f5"},
		arrows:   []string{"#cf222e", "#116329", "#0550ae", "#8250df", "#953800", "#1b7c83"},
		hot:      "#000000",
		prologue: "#0550ae", tcc: "#953800", pad: "#cf222e", tail: "#8250df", epi: "#116329", poke: "#bc4c00",
		statusBG: "#eaeef2", statusFG: "#24292f", overlayBG: "#f6f8fa", accent: "#0969da",
	})
}

// Okabe-Ito, the palette of Okabe & Ito's "Color Universal Design"
// (2008), distinguishable with protanopia, deuteranopia and tritanopia.
const (
	oiOrange    = "#E69F00"
	oiSkyBlue   = "#56B4E9"
	oiGreen     = "#009E73"
	oiYellow    = "#F0E442"
	oiBlue      = "#0072B2"
	oiVermilion = "#D55E00"
	oiPurple    = "#CC79A7"
)

// okabeIto is a chroma style in the Okabe-Ito colours, so the high-contrast
// theme takes its token colours from chroma like the others.
func okabeIto(dark bool) *chroma.Style {
	text, comment, blue := "#000000", "#505050", oiBlue
	if dark {
		text, comment, blue = "#ffffff", "#b0b0b0", oiSkyBlue
	}
	return chroma.MustNewStyle("okabe-ito", chroma.StyleEntries{
		chroma.Text:          text,
		chroma.Keyword:       "bold " + oiOrange,
		chroma.NameVariable:  blue,
		chroma.LiteralNumber: oiGreen,
		chroma.NameLabel:     oiPurple,
		chroma.NameFunction:  "bold " + oiVermilion,
		chroma.Punctuation:   text,
		chroma.Comment:       "italic " + comment,
	})
}

// HighContrast is a colour-blind-safe theme with strong contrast, on the
// Okabe-Ito palette; dark selects the variant for dark backgrounds.
func HighContrast(dark bool) *Theme {
	p := palette{
		name: "high-contrast", dark: dark, chroma: okabeIto(dark),
		arrows:   []string{oiOrange, oiSkyBlue, oiGreen, oiYellow, oiBlue, oiVermilion, oiPurple},
		prologue: oiSkyBlue, tcc: oiOrange, pad: oiVermilion, tail: oiPurple, epi: oiGreen, poke: oiYellow,
	}
	if dark {
		p.text, p.dim, p.faint, p.title, p.err = "#ffffff", "#d0d0d0", "#b0b0b0", "#ffffff", oiVermilion
		p.cursor, p.cursorBlur, p.linked, p.sib, p.mt = "#0050a0", "#3a3a3a", "#6a3050", "#202830", "#705000"
		p.bands = []string{"#002a45", "#452a00", "#00382a", "#40163a"}
		p.hot = "#ffffff"
		p.statusBG, p.statusFG, p.overlayBG, p.accent = "#000000", "#ffffff", "#101010", oiYellow
	} else {
		p.arrows = []string{oiVermilion, oiBlue, oiGreen, oiPurple, oiOrange, "#000000"}
		p.prologue, p.poke = oiBlue, oiOrange
		p.text, p.dim, p.faint, p.title, p.err = "#000000", "#303030", "#505050", "#000000", oiVermilion
		p.cursor, p.cursorBlur, p.linked, p.sib, p.mt = "#9fd3f5", "#d0d0d0", "#f0c8dd", "#eeeeee", "#f7ef8a"
		p.bands = []string{"#dff0fb", "#fbecd0", "#d6f1e8", "#f6e2ee"}
		p.hot = "#000000"
		p.statusBG, p.statusFG, p.overlayBG, p.accent = "#ffffff", "#000000", "#f4f4f4", oiBlue
	}
	return build(p)
}

// Mono is the theme without colour (NO_COLOR): attributes only. The
// cursor is reverse video, linked lines underlined, the hot arrows bold.
func Mono() *Theme {
	n := lipgloss.NewStyle()
	t := &Theme{Name: "mono", Dark: true, Mono: true}
	t.Text, t.Dim, t.Addr, t.Bytes, t.BPF = n, n, n, n, n
	t.Title, t.Header, t.Error = n.Bold(true), n.Bold(true), n.Bold(true)
	t.PaneTitle, t.PaneTitleFocused = n, n.Bold(true).Underline(true)
	t.Status, t.StatusKey = n, n.Bold(true)
	t.Overlay, t.OverlayTitle, t.Selected = n, n.Bold(true), n.Reverse(true)
	for i := range t.Tokens {
		t.Tokens[i] = n
	}
	t.Tokens[TokComment] = n.Italic(true)
	t.Cursor, t.CursorBlur = n.Reverse(true), n.Underline(true)
	t.Linked, t.Sibling, t.Match = n.Underline(true), n, n.Bold(true).Underline(true)
	t.Bands = []lipgloss.Style{n}
	t.Arrows = []lipgloss.Style{n}
	t.ArrowHot = n.Bold(true)
	t.Regions = map[jit.RegionKind]lipgloss.Style{jit.RegionLandingPad: n.Bold(true), jit.RegionTCCInit: n.Bold(true)}
	t.HelpKey, t.HelpDesc, t.HelpSep = n.Bold(true), n, n
	return t
}

// RegionStyle returns the marker style of region k (Text when none).
func (t *Theme) RegionStyle(k jit.RegionKind) lipgloss.Style {
	if s, ok := t.Regions[k]; ok {
		return s
	}
	return t.Dim
}

// Background returns the background colour of a row style, or nil.
func Background(s lipgloss.Style) color.Color {
	c := s.GetBackground()
	if _, none := c.(lipgloss.NoColor); none {
		return nil
	}
	return c
}
