// SPDX-License-Identifier: GPL-2.0-only

package export

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/ui"
)

// HTMLOptions configure the page.
type HTMLOptions struct {
	Theme *themes.Theme
	// Tour stops (session.ResolveTour) are marked on the rows they place
	// (numbered badges) and listed under the listings with their
	// paragraphs; nil for none.
	Tour *session.Tour
}

// Geometry of the listing, in CSS pixels: every row is rowH tall so the
// arrows' SVG lines up with the text without scripts.
const (
	rowH  = 18
	laneW = 9
)

// HTML writes one self-contained page showing the session's listings side
// by side: no scripts, no fonts or images fetched, the styles inline.
func HTML(w io.Writer, sess *session.Session, opt HTMLOptions) error {
	th := opt.Theme
	if th == nil {
		th = themes.Dark()
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	t := sess.Target
	desc, _, _ := strings.Cut(t.Set.Description, "\n")
	title := "jitscope · " + t.Name
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", html.EscapeString(title))
	fmt.Fprintf(bw, "<meta name=\"generator\" content=\"jitscope export\">\n<style>\n%s</style>\n</head>\n<body>\n", css(th))
	fmt.Fprintf(bw, "<header class=\"bar\"><b>jitscope</b> %s", html.EscapeString(t.Name))
	if desc != "" {
		fmt.Fprintf(bw, " — %s", html.EscapeString(desc))
	}
	bw.WriteString("</header>\n<main class=\"panes\">\n")
	var notes []stopNote
	for i, l := range sess.Listings {
		marks := stopMarks(l, opt.Tour)
		notes = append(notes, marks...)
		writePane(bw, l, th, marks, i)
	}
	bw.WriteString("</main>\n")
	if opt.Tour != nil && len(opt.Tour.Stops) > 0 {
		bw.WriteString("<section class=\"tour\"><h2>Guided tour</h2>\n<ol>\n")
		for i, st := range opt.Tour.Stops {
			where := ""
			for _, n := range notes {
				if n.stop == i {
					where += fmt.Sprintf(" <span class=\"where\">%s %s</span>", html.EscapeString(string(n.arch)), html.EscapeString(n.at))
				}
			}
			fmt.Fprintf(bw, "<li id=\"stop-%d\"><span class=\"badge\">%d</span>%s<p>%s</p></li>\n", i+1, i+1, where, html.EscapeString(st.Text))
		}
		bw.WriteString("</ol>\n</section>\n")
	}
	bw.WriteString("<footer>Made with <code>jitscope export</code>. Hover a line for its BPF instruction.</footer>\n</body>\n</html>\n")
	return bw.Flush()
}

// stopNote is a tour stop placed on a row of a listing.
type stopNote struct {
	stop int
	row  int
	arch string
	at   string
}

// stopMarks places the tour's stops on listing l: those resolved on its
// architecture and profile without prog array slots of their own (the
// listing shows the scenario as written, so its code and addresses are
// the stop's).
func stopMarks(l *session.Listing, tour *session.Tour) []stopNote {
	if l.Err != nil || l.Profile == nil || tour == nil {
		return nil
	}
	var out []stopNote
	for i := range tour.Stops {
		st := &tour.Stops[i]
		if st.Err != nil || st.Arch != l.Arch || st.Profile != l.Profile.Name || len(st.Config.Slots) > 0 {
			continue
		}
		row := l.RowOfAddr(st.Address)
		if row < 0 {
			continue
		}
		at := ""
		if ln := l.Line(row); ln != nil {
			at = fmt.Sprintf("%s+%#x", l.Func(row).Image.Name, ln.Offset)
		}
		out = append(out, stopNote{stop: i, row: row, arch: string(l.Arch), at: at})
	}
	return out
}

func writePane(bw *bufio.Writer, l *session.Listing, th *themes.Theme, marks []stopNote, idx int) {
	prof := "no profile"
	if l.Profile != nil {
		prof = l.Profile.Name
	}
	fmt.Fprintf(bw, "<section class=\"pane\" id=\"%s\">\n<h2>%s · %s</h2>\n", html.EscapeString(string(l.Arch)), html.EscapeString(string(l.Arch)), html.EscapeString(prof))
	if l.Err != nil {
		fmt.Fprintf(bw, "<p class=\"err\">%s</p>\n</section>\n", html.EscapeString(l.Err.Error()))
		return
	}
	gw := (l.Lanes+1)*laneW + 6
	fmt.Fprintf(bw, "<div class=\"listing\" style=\"--gw:%dpx\">\n", gw)
	writeArrows(bw, l, th, gw, idx)
	badges := map[int][]int{}
	for _, m := range marks {
		badges[m.row] = append(badges[m.row], m.stop)
	}
	for r, row := range l.Rows {
		var b strings.Builder
		switch row.Kind {
		case session.RowBlank:
			b.WriteString("<div class=\"row\"></div>")
		case session.RowHeader:
			fmt.Fprintf(&b, "<div class=\"row hdr\"><span class=\"mk\"></span><span class=\"addr\"></span><span class=\"gut\"></span><span class=\"code\">%s</span></div>",
				html.EscapeString(l.Funcs[row.Func].Header()))
		case session.RowSource:
			text := ""
			if li, ok := l.SourceLine(r); ok {
				text = session.SourceText(li)
			}
			fmt.Fprintf(&b, "<div class=\"row src\"><span class=\"mk\"></span><span class=\"addr\"></span><span class=\"gut\"></span><span class=\"code\">; %s</span></div>",
				html.EscapeString(strings.TrimSpace(text)))
		default:
			ln := l.Line(r)
			tip := ""
			if in, ok := l.BPFInsn(r); ok {
				tip = fmt.Sprintf(" title=\"bpf %d: %s\"", in.Index, html.EscapeString(disasm.BPFText(in)))
			}
			fmt.Fprintf(&b, "<div class=\"row\"%s>", tip)
			mk := ""
			if ln.Region != "" {
				mk = fmt.Sprintf("<span class=\"mk r-%s\">▌</span>", cssIdent(ln.Region))
			} else {
				mk = "<span class=\"mk\"></span>"
			}
			b.WriteString(mk)
			fmt.Fprintf(&b, "<span class=\"addr\">%016x</span><span class=\"gut\"></span><span class=\"code\">", ln.Addr)
			for _, seg := range ui.Tokenize(ln.Text) {
				fmt.Fprintf(&b, "<span class=\"t%d\">%s</span>", seg.Tok, html.EscapeString(seg.Text))
			}
			b.WriteString("</span>")
			if len(ln.Notes) > 0 {
				fmt.Fprintf(&b, "<span class=\"note\">// %s</span>", html.EscapeString(strings.Join(ln.Notes, "; ")))
			}
			for _, s := range badges[r] {
				fmt.Fprintf(&b, "<a class=\"badge\" href=\"#stop-%d\">%d</a>", s+1, s+1)
			}
			b.WriteString("</div>")
		}
		bw.WriteString(b.String())
		bw.WriteByte('\n')
	}
	bw.WriteString("</div>\n</section>\n")
}

// writeArrows draws the listing's arrow groups in an SVG laid over the
// gutter column: from each branch's row into its lane, along it, and into
// the target's row with an arrowhead. Lane 0 is nearest the code, as in
// the terminal.
func writeArrows(bw *bufio.Writer, l *session.Listing, th *themes.Theme, gw, idx int) {
	h := len(l.Rows) * rowH
	fmt.Fprintf(bw, "<svg class=\"arrows\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" aria-label=\"control-flow arrows\">\n", gw, h, gw, h)
	colours := make([]string, 0, len(th.Arrows))
	for _, a := range th.Arrows {
		colours = append(colours, hexOr(a.GetForeground(), textColour(th)))
	}
	if len(colours) == 0 {
		colours = append(colours, textColour(th))
	}
	bw.WriteString("<defs>")
	for i, c := range colours {
		fmt.Fprintf(bw, "<marker id=\"h%d-%d\" markerWidth=\"6\" markerHeight=\"6\" refX=\"5\" refY=\"3\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" fill=\"%s\"/></marker>", idx, i, c)
	}
	bw.WriteString("</defs>\n")
	y := func(r int) int { return r*rowH + rowH/2 }
	for _, g := range l.Groups {
		ci := int(g.Color % uint32(len(colours)))
		x := gw - 6 - g.Lane*laneW - laneW/2
		dash := ""
		width := "1.3"
		if !g.Local() {
			width = "2"
			if g.Kind == disasm.ArrowTailCall {
				dash = " stroke-dasharray=\"5 3\""
			}
		}
		label := ""
		if g.Label != "" {
			label = fmt.Sprintf("<title>%s</title>", html.EscapeString(g.Label))
		}
		for _, s := range g.Sources {
			fmt.Fprintf(bw, "<path d=\"M%d,%d H%d V%d H%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s marker-end=\"url(#h%d-%d)\">%s</path>\n",
				gw, y(s), x, y(g.Target), gw-2, colours[ci], width, dash, idx, ci, label)
		}
	}
	bw.WriteString("</svg>\n")
}

func textColour(th *themes.Theme) string { return hexOr(th.Text.GetForeground(), "#000000") }

func hexOr(c interface{ RGBA() (r, g, b, a uint32) }, def string) string {
	if s := hex(c); s != "" {
		return s
	}
	return def
}

// css is the page's style sheet in theme th's colours.
func css(th *themes.Theme) string {
	bg := hexOr(th.Overlay.GetBackground(), "#ffffff")
	fg := textColour(th)
	var b strings.Builder
	fmt.Fprintf(&b, `body { background: %s; color: %s; margin: 0; font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; }
.bar { background: %s; color: %s; padding: 6px 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.panes { display: flex; gap: 0; align-items: flex-start; }
.pane { flex: 1 1 50%%; min-width: 0; overflow-x: auto; border-right: 1px solid %s; }
.pane h2 { font-size: 13px; margin: 0; padding: 4px 8px; background: %s; color: %s; }
.listing { position: relative; padding: 4px 0; }
.arrows { position: absolute; top: 4px; left: calc(2ch + 17ch); pointer-events: none; overflow: visible; }
.row { height: %dpx; line-height: %dpx; white-space: pre; }
.row:hover { background: %s; }
.mk { display: inline-block; width: 2ch; }
.addr { display: inline-block; width: 17ch; color: %s; }
.gut { display: inline-block; width: var(--gw); }
.hdr .code { color: %s; font-weight: bold; }
.src .code { color: %s; font-style: italic; }
.note { color: %s; margin-left: 2ch; }
.err { color: %s; padding: 8px; }
.badge { display: inline-block; min-width: 1.6ch; margin-left: 1ch; padding: 0 4px; border-radius: 8px; background: %s; color: %s; text-align: center; text-decoration: none; font-weight: bold; }
.tour { padding: 8px 16px; max-width: 100ch; }
.tour h2 { font-size: 14px; }
.tour ol { list-style: none; padding: 0; }
.tour li { margin: 0 0 10px 0; }
.tour li p { margin: 4px 0 0 0; white-space: normal; font-family: sans-serif; }
.where { color: %s; margin-left: 1ch; }
footer { padding: 8px 16px; color: %s; }
`, bg, fg,
		hexOr(th.Status.GetBackground(), bg), hexOr(th.Status.GetForeground(), fg),
		hexOr(th.Dim.GetForeground(), fg),
		hexOr(th.PaneTitleFocused.GetBackground(), bg), hexOr(th.PaneTitleFocused.GetForeground(), fg),
		rowH, rowH,
		hexOr(th.CursorBlur.GetBackground(), bg),
		hexOr(th.Addr.GetForeground(), fg),
		hexOr(th.Header.GetForeground(), fg),
		hexOr(th.Tokens[themes.TokComment].GetForeground(), fg),
		hexOr(th.Tokens[themes.TokComment].GetForeground(), fg),
		hexOr(th.Error.GetForeground(), fg),
		hexOr(th.StatusKey.GetForeground(), fg), bg,
		hexOr(th.Dim.GetForeground(), fg),
		hexOr(th.Dim.GetForeground(), fg))
	for i := range themes.NumTokens {
		st := th.Tokens[i]
		fmt.Fprintf(&b, ".t%d { color: %s;%s }\n", i, hexOr(st.GetForeground(), fg), boldCSS(st))
	}
	for _, k := range slices.Sorted(maps.Keys(th.Regions)) {
		st := th.Regions[k]
		fmt.Fprintf(&b, ".r-%s { color: %s; }\n", cssIdent(k), hexOr(st.GetForeground(), fg))
	}
	return b.String()
}

func boldCSS(st lipgloss.Style) string {
	if st.GetBold() {
		return " font-weight: bold;"
	}
	return ""
}

func cssIdent(k jit.RegionKind) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, string(k))
}
