// Command jitscope explores the Linux kernel's eBPF JITs: it compiles BPF
// programs through re-implementations of the kernel's arm64 and x86-64 JIT
// backends and shows the machine code as annotated listings.
package main

import (
	"os"

	"github.com/jitscope/jitscope/cli"
)

func main() { os.Exit(cli.MainOS()) }
