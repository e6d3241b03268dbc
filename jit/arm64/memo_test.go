// SPDX-License-Identifier: GPL-2.0-only

package arm64

import (
	"testing"

	"github.com/jitscope/jitscope/internal/jittest"
)

// TestMemoMatchesFullPasses holds the memoised passes to the full ones on
// every profile (jittest.MemoMatchesFullPasses).
func TestMemoMatchesFullPasses(t *testing.T) {
	jittest.MemoMatchesFullPasses(t, profiles, func(off bool) { noMemo = off })
}
