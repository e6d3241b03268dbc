// SPDX-License-Identifier: GPL-2.0-only

package scenarios

// The BPF objects the ELF tests load are committed beside their sources in
// testdata/elf, so the tests need no compiler.
//go:generate sh testdata/elf/build.sh
