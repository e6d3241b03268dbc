// SPDX-License-Identifier: GPL-2.0-only

package live

// The test objects are compiled from the C sources beside them and
// committed, so the tests need no clang (as bpf2go does it).
//go:generate sh testdata/build.sh
