// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Capabilities (include/uapi/linux/capability.h).
const (
	capSysAdmin = 21
	capSyslog   = 34
	capPerfmon  = 38
	capBPF      = 39
)

// Conditions are the facts that decide whether jitscope can read and load
// BPF programs here. ReadConditions reads them; tests build them.
type Conditions struct {
	EUID   int
	CapEff uint64 // effective capability set
	// KptrRestrict is kernel.kptr_restrict (-1: unknown). Raw xlated
	// instructions and jited_ksyms are zeroed unless kallsyms_show_value()
	// allows the caller to see kernel addresses: 0, or 1 with CAP_SYSLOG.
	KptrRestrict int
	// JITEnable is net.core.bpf_jit_enable, -1 when the file does not
	// exist (a kernel without BPF JIT support).
	JITEnable int
	// BPFSyscall reports whether the kernel has the bpf() system call
	// (/sys/fs/bpf or /proc/sys/kernel/unprivileged_bpf_disabled exists).
	BPFSyscall bool
}

// ErrPrivilege is what Check's error wraps.
var ErrPrivilege = errors.New("cannot use the running kernel's BPF")

func readInt(file string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// ReadConditions reads the calling process's conditions.
func ReadConditions() Conditions {
	c := Conditions{EUID: os.Geteuid(), KptrRestrict: readInt("/proc/sys/kernel/kptr_restrict"),
		JITEnable: readInt("/proc/sys/net/core/bpf_jit_enable")}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
				c.CapEff, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			}
		}
	}
	for _, f := range []string{"/proc/sys/kernel/unprivileged_bpf_disabled", "/sys/fs/bpf"} {
		if _, err := os.Stat(f); err == nil {
			c.BPFSyscall = true
		}
	}
	return c
}

func (c Conditions) has(cap uint) bool { return c.CapEff&(1<<cap) != 0 }

// Check returns nil when the conditions allow listing, reading and loading
// BPF programs with their addresses, else one line naming everything that
// is missing.
func (c Conditions) Check() error {
	var miss []string
	if !c.BPFSyscall {
		miss = append(miss, "a kernel with the bpf() system call (CONFIG_BPF_SYSCALL)")
	}
	switch {
	case c.JITEnable < 0:
		miss = append(miss, "a BPF JIT (no /proc/sys/net/core/bpf_jit_enable: CONFIG_BPF_JIT)")
	case c.JITEnable == 0:
		miss = append(miss, "net.core.bpf_jit_enable=1 (it is 0: programs are interpreted, there is no image)")
	}
	// Listing other programs (BPF_PROG_GET_NEXT_ID, GET_FD_BY_ID) needs
	// CAP_SYS_ADMIN; loading and reading needs CAP_BPF, and CAP_PERFMON for
	// pointer-carrying programs and raw dumps.
	if c.EUID != 0 && !c.has(capSysAdmin) {
		switch {
		case !c.has(capBPF) || !c.has(capPerfmon):
			miss = append(miss, "root (CAP_SYS_ADMIN, or CAP_BPF+CAP_PERFMON to load)")
		default:
			miss = append(miss, "CAP_SYS_ADMIN to list programs loaded by others")
		}
	}
	switch {
	case c.KptrRestrict >= 2:
		miss = append(miss, fmt.Sprintf("kernel.kptr_restrict=0 (it is %d: kernel addresses and raw instructions are hidden)", c.KptrRestrict))
	case c.KptrRestrict == 1 && !c.has(capSyslog):
		miss = append(miss, "kernel.kptr_restrict=0 or CAP_SYSLOG (it is 1: kernel addresses are hidden)")
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: needs %s", ErrPrivilege, strings.Join(miss, "; "))
}
