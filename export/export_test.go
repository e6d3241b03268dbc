// SPDX-License-Identifier: GPL-2.0-only

package export

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

func seedSession(t testing.TB) (*session.Session, *session.Tour) {
	t.Helper()
	sess, err := session.Load("bpf2bpf-tailcall", session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tour, err := session.ResolveTour("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	return sess, tour
}

// The text form is `jitscope dump` with arrows: seed 000's listing.
func TestText(t *testing.T) {
	sess, _ := seedSession(t)
	var got, want bytes.Buffer
	if err := Text(&got, sess.Listings[0]); err != nil {
		t.Fatal(err)
	}
	if err := disasm.WriteText(&want, sess.Listings[0].Programs, disasm.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Error("export text differs from dump's text")
	}
	for _, s := range []string{"int entry(struct __sk_buff *skb):", "0xffffffc00901521c: blr x10 ", "// bpf2bpf call", "<-"} {
		if !strings.Contains(got.String(), s) {
			t.Errorf("text lacks %q", s)
		}
	}
}

// ANSI is the text, coloured: without its escapes it is the text again,
// and the theme's colours are in it.
func TestANSI(t *testing.T) {
	sess, _ := seedSession(t)
	for _, l := range sess.Listings {
		var txt, col bytes.Buffer
		if err := Text(&txt, l); err != nil {
			t.Fatal(err)
		}
		if err := ANSI(&col, l, themes.Dark()); err != nil {
			t.Fatal(err)
		}
		if s := ansi.Strip(col.String()); s != txt.String() {
			t.Errorf("%s: ANSI without escapes differs from the text", l.Arch)
		}
		mn := hex(themes.Dark().Tokens[themes.TokMnemonic].GetForeground())
		var r, g, b int
		fmt.Sscanf(mn, "#%02x%02x%02x", &r, &g, &b)
		if sgr := fmt.Sprintf("38;2;%d;%d;%d", r, g, b); !strings.Contains(col.String(), sgr) {
			t.Errorf("%s: the mnemonic colour %s (%s) is not used", l.Arch, mn, sgr)
		}
		var mono bytes.Buffer
		ANSI(&mono, l, themes.Mono())
		if strings.Contains(mono.String(), "38;2;") {
			t.Errorf("%s: the mono theme has colours", l.Arch)
		}
	}
}

func seedHTML(t testing.TB) string {
	sess, tour := seedSession(t)
	var b bytes.Buffer
	if err := HTML(&b, sess, HTMLOptions{Theme: themes.Dark(), Tour: tour}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The page needs nothing from the network, draws one SVG path per arrow
// end, marks the tour's stops and uses the theme's colours.
func TestHTML(t *testing.T) {
	page := seedHTML(t)
	for _, re := range []string{`(?i)<script`, `(?i)<link`, `(?i)src=`, `(?i)url\((?:"|')?https?:`, `(?i)@import`, `(?i)href="https?:`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("the page refers outside itself: %s", re)
		}
	}
	sess, tour := seedSession(t)
	paths := 0
	for _, l := range sess.Listings {
		for _, g := range l.Groups {
			paths += len(g.Sources)
		}
		if !strings.Contains(page, fmt.Sprintf(`<section class="pane" id="%s">`, l.Arch)) {
			t.Errorf("no pane for %s", l.Arch)
		}
	}
	if n := strings.Count(page, "marker-end="); n != paths || n == 0 {
		t.Errorf("%d arrow paths, want %d", n, paths)
	}
	for i := range tour.Stops {
		if !strings.Contains(page, fmt.Sprintf(`href="#stop-%d"`, i+1)) {
			t.Errorf("tour stop %d is not marked on a row", i+1)
		}
	}
	for _, want := range []string{hex(themes.Dark().Tokens[themes.TokRegister].GetForeground()), "// bpf2bpf call", "tail call landing pad"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var again bytes.Buffer
	HTML(&again, sess, HTMLOptions{Theme: themes.Dark(), Tour: tour})
	if again.String() != page {
		t.Error("two exports differ")
	}
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium: the HTML screenshot test needs Debian's chromium (apt-get install -y chromium)")
	return ""
}

// shot renders page in headless Chromium and returns the screenshot;
// anything the browser reports as a load or page error fails the test.
func shot(t *testing.T, bin, page, name string) image.Image {
	t.Helper()
	dir := t.TempDir()
	html := filepath.Join(dir, name+".html")
	pngPath := filepath.Join(dir, name+".png")
	if err := os.WriteFile(html, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--window-size=1600,1000", "--screenshot="+pngPath, "file://"+html)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	for _, bad := range []string{"Failed to load resource", "net::ERR_", "Uncaught", "CONSOLE("} {
		if strings.Contains(string(out), bad) {
			t.Errorf("chromium reports %q:\n%s", bad, out)
		}
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if dst := os.Getenv("JITSCOPE_SCREENSHOT_DIR"); dst != "" {
		b, _ := os.ReadFile(pngPath)
		os.WriteFile(filepath.Join(dst, name+".png"), b, 0o644)
	}
	return img
}

// changed counts the pixels that differ between a and b in the left and
// the right half.
func changed(a, b image.Image) (left, right int) {
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				if x < r.Dx()/2 {
					left++
				} else {
					right++
				}
			}
		}
	}
	return
}

// The page opens in headless Chromium without errors, and the screenshot
// shows both listings and the arrows: hiding each of them in turn changes
// the pixels where it should.
func TestHTMLScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	bin := chromium(t)
	page := seedHTML(t)
	hide := func(css string) string {
		return strings.Replace(page, "</head>", "<style>"+css+"</style>\n</head>", 1)
	}
	full := shot(t, bin, page, "full")
	if b := full.Bounds(); b.Dx() != 1600 || b.Dy() != 1000 {
		t.Fatalf("screenshot %v", b)
	}
	for _, c := range []struct {
		name, css   string
		left, right bool
	}{
		{"no-arrows", ".arrows { visibility: hidden }", true, true},
		{"no-arm64", "#arm64 .row { visibility: hidden }", true, false},
		{"no-x86", "#x86_64 .row { visibility: hidden }", false, true},
	} {
		l, r := changed(full, shot(t, bin, hide(c.css), c.name))
		const enough = 300 // pixels: a few arrows' worth
		if (l >= enough) != c.left || (r >= enough) != c.right {
			t.Errorf("%s: %d pixels changed on the left, %d on the right; want changes left %v, right %v", c.name, l, r, c.left, c.right)
		}
	}
}
