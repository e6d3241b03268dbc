// SPDX-License-Identifier: GPL-2.0-only

//go:build linux

// Command guest is /init of the throw-away initramfs live/qemu/boot.sh
// boots a Linux kernel with under QEMU: it prepares the system the way a
// root shell on a BPF-capable machine has it (proc, sysfs, devtmpfs, bpffs;
// bpf_jit_enable=1, bpf_jit_harden=0, bpf_jit_kallsyms=1, kptr_restrict=0),
// runs /jitscope once for each line of /cmds (arguments separated by
// spaces), framing each run's output between "JSQEMU BEGIN <line>" and
// "JSQEMU END <status>" lines on the console, and powers the machine off.
// It is how jitscope's live kernel mode is exercised on kernels and
// architectures the development machine does not run (arm64 6.1).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	defer func() {
		unix.Sync()
		unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}()
	for _, m := range []struct{ src, dst, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"bpf", "/sys/fs/bpf", "bpf"},
		{"tmpfs", "/tmp", "tmpfs"},
	} {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			fmt.Printf("JSQEMU mount %s: %v\n", m.dst, err)
		}
	}
	for f, v := range map[string]string{
		"/proc/sys/net/core/bpf_jit_enable":   "1",
		"/proc/sys/net/core/bpf_jit_harden":   "0",
		"/proc/sys/net/core/bpf_jit_kallsyms": "1",
		"/proc/sys/kernel/kptr_restrict":      "0",
		"/proc/sys/kernel/printk":             "1 4 1 7",
	} {
		if err := os.WriteFile(f, []byte(v), 0o644); err != nil {
			fmt.Printf("JSQEMU sysctl %s: %v\n", f, err)
		}
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Printf("JSQEMU UNAME %s %s\n", bytes.TrimRight(uts.Release[:], "\x00"), bytes.TrimRight(uts.Machine[:], "\x00"))
	f, err := os.Open("/cmds")
	if err != nil {
		fmt.Printf("JSQEMU no commands: %v\n", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Printf("JSQEMU BEGIN %s\n", line)
		cmd := exec.Command("/jitscope", strings.Fields(line)...)
		cmd.Env = []string{"HOME=/tmp", "TERM=dumb", "PATH=/"}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		status := 0
		if err := cmd.Run(); err != nil {
			status = -1
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			} else {
				fmt.Printf("JSQEMU run: %v\n", err)
			}
		}
		fmt.Printf("JSQEMU END %d\n", status)
	}
}
