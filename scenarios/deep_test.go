// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"strings"
	"testing"
)

// A fuzzer's finding (testdata/fuzz/FuzzDecodeShort/59f4cfd402c4cba9):
// "0=[[[[..." made the locator cubic, 3,000 brackets hung. Such nesting is
// refused at once, at its line, and legitimate nesting still decodes.
func TestDeepNesting(t *testing.T) {
	for _, n := range []int{33, 3000, 1 << 20} {
		src := "# deep\n0=" + strings.Repeat("[", n)
		_, err := Parse("deep.scn", []byte(src))
		if err == nil || err.Error() != "deep.scn:2: arrays or inline tables nested more than 32 deep" {
			t.Fatalf("%d brackets: %v", n, err)
		}
	}
	ok := "a = " + strings.Repeat("[", 31) + strings.Repeat("]", 31) + "\n"
	if _, _, err := decode("ok.scn", []byte(ok)); err != nil {
		t.Fatalf("31 levels: %v", err)
	}
}
