// SPDX-License-Identifier: GPL-2.0-only

// Package qemu runs jitscope's live kernel mode inside real kernels under
// QEMU (boot.sh; guest/ is the initramfs's /init) and reads back what the
// commands printed on the guest's serial console.
package qemu

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Run is one jitscope command the guest ran.
type Run struct {
	Command string // the arguments, as in the commands file
	Output  []string
	Status  int // exit status; -1 when it could not be started
}

// Console is what the guest printed.
type Console struct {
	Release, Machine string // uname -r, uname -m of the guest kernel
	Runs             []Run
	// Unfinished is the command the guest was running when the console
	// ended (the kernel hung or QEMU was stopped), "" when none.
	Unfinished string
}

// ParseConsole reads a guest's serial console log. Kernel messages between
// a command's lines ("[  12.345] ...") are dropped from its output.
func ParseConsole(r io.Reader) (*Console, error) {
	c := &Console{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var cur *Run
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		rest, ok := strings.CutPrefix(s, "JSQEMU ")
		switch {
		case ok && strings.HasPrefix(rest, "UNAME "):
			f := strings.Fields(rest)
			if len(f) == 3 {
				c.Release, c.Machine = f[1], f[2]
			}
		case ok && strings.HasPrefix(rest, "BEGIN "):
			if cur != nil {
				return nil, fmt.Errorf("console line %d: %q begins before %q ended", line, rest[6:], cur.Command)
			}
			cur = &Run{Command: rest[6:]}
		case ok && strings.HasPrefix(rest, "END "):
			if cur == nil {
				return nil, fmt.Errorf("console line %d: END without BEGIN", line)
			}
			st, err := strconv.Atoi(strings.TrimSpace(rest[4:]))
			if err != nil {
				return nil, fmt.Errorf("console line %d: bad status %q", line, rest[4:])
			}
			cur.Status = st
			c.Runs = append(c.Runs, *cur)
			cur = nil
		case cur != nil && !isKernelMessage(s):
			cur.Output = append(cur.Output, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		c.Unfinished = cur.Command
	}
	if c.Release == "" {
		return nil, fmt.Errorf("console: no JSQEMU UNAME line: the guest's /init did not run")
	}
	return c, nil
}

// isKernelMessage reports whether s is a printk line ("[   1.234567] ...").
func isKernelMessage(s string) bool {
	s = strings.TrimLeft(s, "\x00")
	if !strings.HasPrefix(s, "[") {
		return false
	}
	end := strings.IndexByte(s, ']')
	if end < 2 {
		return false
	}
	ts := strings.TrimSpace(s[1:end])
	_, err := strconv.ParseFloat(ts, 64)
	return err == nil && strings.Contains(ts, ".")
}
