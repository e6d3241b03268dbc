// SPDX-License-Identifier: GPL-2.0-only

package kernel

// RefLoad is Load as it was before round 4 (loadref_test.go), for
// TestLoadMatchesReference.
var RefLoad = refLoad
