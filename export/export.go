// SPDX-License-Identifier: GPL-2.0-only

// Package export writes a target's listings for posts, talks and patch
// reviews, outside the terminal UI: one self-contained HTML page (the
// listings side by side, control-flow arrows as SVG, annotations and the
// guided tour's stops, the theme's colours; no network), plain text as
// `jitscope dump` prints it (seed 000's form, for a commit message), and
// the same text with ANSI colours for pasting into a terminal.
package export

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/ui"
)

// Text writes listing l as seed 000 shows it: headers, addresses,
// instructions, arrows and // annotations (`jitscope dump` without
// --plain).
func Text(w io.Writer, l *session.Listing) error {
	if l.Err != nil {
		return fmt.Errorf("%s: %w", l.Arch, l.Err)
	}
	return disasm.WriteText(w, l.Programs, disasm.TextOptions{})
}

// ANSI writes Text's lines coloured with theme th: addresses, the
// instruction's tokens, arrows and annotations in the listing's colours.
// The text is Text's, character for character, between the escape
// sequences.
func ANSI(w io.Writer, l *session.Listing, th *themes.Theme) error {
	var buf strings.Builder
	if err := Text(&buf, l); err != nil {
		return err
	}
	sgr := func(s lipgloss.Style) string {
		out := s.Render("X")
		p, _, _ := strings.Cut(out, "X")
		return p
	}
	const reset = "\x1b[m"
	put := func(b *strings.Builder, s string, st lipgloss.Style) {
		if s == "" {
			return
		}
		if p := sgr(st); p != "" {
			b.WriteString(p + s + reset)
			return
		}
		b.WriteString(s)
	}
	// The instruction lines in the order WriteText prints them, with the
	// byte column width it uses.
	// Every line's fields are read: an indexed listing's are listed.
	funcs := disasm.Flatten(l.Programs)
	for i, f := range funcs {
		funcs[i] = f.Full()
	}
	byteCols := 7
	for _, f := range funcs {
		for _, ln := range f.Lines {
			byteCols = max(byteCols, len(ln.Bytes))
		}
	}
	type item struct {
		header string
		line   *disasm.Line
	}
	var items []item
	for fi, f := range funcs {
		if fi > 0 {
			items = append(items, item{})
		}
		items = append(items, item{header: f.Header()})
		for li := range f.Lines {
			items = append(items, item{line: &f.Lines[li]})
		}
	}
	bw := bufio.NewWriter(w)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, s := range lines {
		var b strings.Builder
		var it item
		if i < len(items) {
			it = items[i]
		}
		switch {
		case it.header != "" && strings.HasPrefix(s, it.header):
			put(&b, it.header, th.Header)
			colourArrows(&b, s[len(it.header):], th, put)
		case it.line != nil && strings.HasPrefix(s, disasm.InstructionText(l.Arch, it.line, byteCols)):
			insn := disasm.InstructionText(l.Arch, it.line, byteCols)
			put(&b, insn[:20], th.Addr)
			rest := insn[20:]
			if l.Arch == kernel.X86_64 {
				nb := len(rest) - len(it.line.Text)
				put(&b, rest[:nb], th.Bytes)
				rest = rest[nb:]
			}
			for _, seg := range ui.Tokenize(rest) {
				put(&b, seg.Text, th.Tokens[seg.Tok])
			}
			colourArrows(&b, s[len(insn):], th, put)
		default:
			colourArrows(&b, s, th, put)
		}
		bw.WriteString(b.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// colourArrows writes the arrows part of a line (and its // notes).
func colourArrows(b *strings.Builder, s string, th *themes.Theme, put func(*strings.Builder, string, lipgloss.Style)) {
	arrows, notes, ok := strings.Cut(s, "// ")
	put(b, arrows, th.Dim)
	if ok {
		put(b, "// "+notes, th.Tokens[themes.TokComment])
	}
}

// hex is a colour as CSS wants it, "" for none.
func hex(c color.Color) string {
	if c == nil {
		return ""
	}
	if _, ok := c.(lipgloss.NoColor); ok {
		return ""
	}
	r, g, b, a := c.RGBA()
	if a == 0 {
		return ""
	}
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
