// SPDX-License-Identifier: GPL-2.0-only

package themes

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/jit"
)

func TestByName(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, tc := range []struct {
		name string
		dark bool
		want string
	}{
		{"auto", true, "dark"}, {"auto", false, "light"}, {"", false, "light"},
		{"dark", false, "dark"}, {"light", true, "light"},
		{"high-contrast", true, "high-contrast"}, {"mono", true, "mono"},
	} {
		th, err := ByName(tc.name, tc.dark)
		if err != nil || th.Name != tc.want {
			t.Errorf("ByName(%q, dark=%v) = %v, %v; want %s", tc.name, tc.dark, th, err, tc.want)
		}
	}
	if _, err := ByName("sepia", true); err == nil || !strings.Contains(err.Error(), "high-contrast") {
		t.Errorf("ByName(sepia) error %v, want one listing the themes", err)
	}
}

func TestNoColorMeansMono(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	for _, n := range []string{"auto", "dark", "light", "high-contrast"} {
		th, err := ByName(n, true)
		if err != nil || th.Name != "mono" {
			t.Errorf("NO_COLOR=1 ByName(%q) = %v, want mono", n, th.Name)
		}
	}
	// Mono renders no colour sequences at all, only attributes.
	for _, s := range append(Mono().Arrows, Mono().Cursor, Mono().Tokens[TokMnemonic], Mono().Linked) {
		if out := s.Render("x"); strings.Contains(out, "38;") || strings.Contains(out, "48;") {
			t.Errorf("mono style renders colour: %q", out)
		}
	}
}

func TestTokenColoursComeFromChroma(t *testing.T) {
	// github-dark: Keyword #ff7b72, NameVariable #79c0ff.
	d := Dark()
	if got := d.Tokens[TokMnemonic].Render("x"); !strings.Contains(got, "255;123;114") {
		t.Errorf("dark mnemonic %q, want github-dark's keyword colour", got)
	}
	if got := d.Tokens[TokRegister].Render("x"); !strings.Contains(got, "121;192;255") {
		t.Errorf("dark register %q, want github-dark's variable colour", got)
	}
	// The high-contrast theme draws arrows and tokens in Okabe-Ito colours.
	hc := HighContrast(true)
	if got := hc.Tokens[TokMnemonic].Render("x"); !strings.Contains(got, "230;159;0") {
		t.Errorf("high-contrast mnemonic %q, want Okabe-Ito orange", got)
	}
	if len(hc.Arrows) != 7 {
		t.Errorf("high-contrast has %d arrow colours, want the 7 Okabe-Ito colours", len(hc.Arrows))
	}
}

func TestEveryThemeIsComplete(t *testing.T) {
	for _, th := range []*Theme{Dark(), Light(), HighContrast(true), HighContrast(false), Mono()} {
		if len(th.Bands) == 0 || len(th.Arrows) == 0 {
			t.Errorf("%s: %d bands, %d arrow colours", th.Name, len(th.Bands), len(th.Arrows))
		}
		if !th.Mono && Background(th.Cursor) == nil {
			t.Errorf("%s: the cursor has no background", th.Name)
		}
		if !th.Mono && Background(th.RegionStyle(jit.RegionBody)) != nil {
			t.Errorf("%s: body rows get a background", th.Name)
		}
	}
}
