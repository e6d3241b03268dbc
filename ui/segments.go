// SPDX-License-Identifier: GPL-2.0-only

package ui

import "github.com/jitscope/jitscope/themes"

// Segment is a piece of instruction text and its token kind.
type Segment struct {
	Text string
	Tok  themes.Token
}

// Tokenize splits objdump-syntax instruction text into the token kinds
// the listings colour (mnemonic, registers, immediates, targets, symbols,
// punctuation), for renderers outside the terminal (package export).
func Tokenize(text string) []Segment {
	segs := tokenize(text)
	out := make([]Segment, len(segs))
	for i, s := range segs {
		out[i] = Segment{s.text, s.tok}
	}
	return out
}
