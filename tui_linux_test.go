// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The terminal UI under a real pseudo-terminal: the built binary is started
// with the pty's slave as its controlling terminal, and the tests look at
// what it wrote and at the terminal's modes after it exits.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// jitscopeBin builds the binary once for these tests.
func jitscopeBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "jitscope-tui-test")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "jitscope")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// pty is a pseudo-terminal pair; output collects what the program wrote.
type pty struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
}

func openPTY(t *testing.T, cols, rows int) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}); err != nil {
		t.Fatal(err)
	}
	p := &pty{master: m, slave: s}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return p
}

func (p *pty) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the output contains s.
func (p *pty) waitFor(t *testing.T, s string, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if strings.Contains(p.output(), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q in %d bytes of output after %v: ...%q", s, len(p.output()), d, tail(p.output(), 300))
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// start runs jitscope with args on the pty (stdin too unless stdin is set),
// in env (added to a minimal environment).
func start(t *testing.T, p *pty, stdin *os.File, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(jitscopeBin(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TERM=xterm-256color", "LANG=C.UTF-8"}, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	if stdin != nil {
		cmd.Stdin = stdin
	}
	// A session of its own with the pty as its controlling terminal, as
	// a shell in a terminal emulator has.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// wait waits for the process to exit and returns its status.
func wait(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("did not exit within %v", d)
	}
	return cmd.ProcessState.ExitCode()
}

// restored checks the terminal is as the shell left it: the alternate
// screen left after it was entered, the cursor shown after it was hidden,
// and the line discipline out of raw mode (echo, canonical input, signals).
func restored(t *testing.T, p *pty) {
	t.Helper()
	// The last bytes may still be on their way through the pty.
	out := p.output()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if out = p.output(); strings.HasSuffix(strings.TrimRight(out, "\r\n"), "\x1b[?1049l") || strings.Contains(out[strings.LastIndex(out, "\x1b[?1049h")+1:], "\x1b[?1049l") {
			break
		}
	}
	if i := strings.LastIndex(out, "\x1b[?1049h"); i < 0 {
		t.Error("the alternate screen was never entered")
	} else if !strings.Contains(out[i:], "\x1b[?1049l") {
		t.Errorf("the alternate screen was not left: ...%q", tail(out, 200))
	}
	if i := strings.LastIndex(out, "\x1b[?25l"); i >= 0 && !strings.Contains(out[i:], "\x1b[?25h") {
		t.Errorf("the cursor was left hidden: ...%q", tail(out, 200))
	}
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 || tio.Lflag&unix.ICANON == 0 || tio.Lflag&unix.ISIG == 0 {
		t.Errorf("the terminal is left in raw mode: lflag %#x", tio.Lflag)
	}
}

// TestTUISIGTERM kills the UI in the middle of a session with SIGTERM: it
// must exit and leave the terminal as it found it.
func TestTUISIGTERM(t *testing.T) {
	p := openPTY(t, 120, 40)
	cmd := start(t, p, nil, nil)
	p.waitFor(t, "\x1b[?1049h", 20*time.Second)
	p.waitFor(t, "entry", 20*time.Second) // the listing is on the screen
	p.master.Write([]byte("jjs"))         // move, step: mid-run
	time.Sleep(300 * time.Millisecond)
	// The check after the exit means something: the UI did take the
	// terminal into raw mode.
	if tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO != 0 {
		t.Fatalf("the terminal is not in raw mode while the UI runs (%v)", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, cmd, 10*time.Second); st != 0 {
		t.Errorf("exit status %d after SIGTERM: %q", st, tail(p.output(), 300))
	}
	restored(t, p)
}

// TestTUIQuit: q quits and restores the terminal too.
func TestTUIQuit(t *testing.T) {
	p := openPTY(t, 120, 40)
	cmd := start(t, p, nil, nil, "open", "packet-parser")
	p.waitFor(t, "\x1b[?1049h", 20*time.Second)
	p.waitFor(t, "parse", 20*time.Second)
	p.master.Write([]byte("q"))
	if st := wait(t, cmd, 10*time.Second); st != 0 {
		t.Errorf("exit status %d after q", st)
	}
	restored(t, p)
}

// TestTUITiny: a 10x3 terminal says it needs more, and q still quits.
func TestTUITiny(t *testing.T) {
	p := openPTY(t, 10, 3)
	cmd := start(t, p, nil, nil)
	p.waitFor(t, "need 60x15", 20*time.Second)
	p.master.Write([]byte("q"))
	if st := wait(t, cmd, 10*time.Second); st != 0 {
		t.Errorf("exit status %d", st)
	}
	restored(t, p)
}

// colourSGR matches an SGR sequence that sets a colour: 30-38, 40-48,
// 90-97, 100-107 among its parameters (39 and 49, the defaults, are fine).
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m`)

// TestTUIEnvironments: NO_COLOR draws without colour, a C locale draws
// ASCII only, and keys are read from the terminal when stdin is a pipe.
func TestTUIEnvironments(t *testing.T) {
	t.Run("NO_COLOR", func(t *testing.T) {
		p := openPTY(t, 120, 40)
		cmd := start(t, p, nil, []string{"NO_COLOR=1"})
		p.waitFor(t, "entry", 20*time.Second)
		p.master.Write([]byte("q"))
		wait(t, cmd, 10*time.Second)
		restored(t, p)
		if c := colourSGR.FindString(p.output()); c != "" {
			t.Errorf("a colour with NO_COLOR: %q", c)
		}
	})
	t.Run("colour", func(t *testing.T) {
		// Without NO_COLOR there are colours: the check above can fail.
		p := openPTY(t, 120, 40)
		cmd := start(t, p, nil, nil)
		p.waitFor(t, "entry", 20*time.Second)
		p.master.Write([]byte("q"))
		wait(t, cmd, 10*time.Second)
		if !colourSGR.MatchString(p.output()) {
			t.Error("no colour without NO_COLOR")
		}
	})
	t.Run("LANG=C", func(t *testing.T) {
		p := openPTY(t, 120, 40)
		cmd := start(t, p, nil, []string{"LANG=C"})
		p.waitFor(t, "entry", 20*time.Second)
		p.master.Write([]byte("?")) // the help box: box drawing
		time.Sleep(500 * time.Millisecond)
		p.master.Write([]byte("xq"))
		wait(t, cmd, 10*time.Second)
		restored(t, p)
		out := p.output()
		for i := 0; i < len(out); i++ {
			if out[i] >= 0x80 {
				t.Fatalf("non-ASCII byte %#x with LANG=C: ...%q", out[i], out[max(0, i-40):i+1])
			}
		}
	})
	t.Run("stdin piped", func(t *testing.T) {
		p := openPTY(t, 120, 40)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		cmd := start(t, p, r, nil)
		p.waitFor(t, "entry", 20*time.Second)
		p.master.Write([]byte("q")) // from the terminal, not the pipe
		if st := wait(t, cmd, 10*time.Second); st != 0 {
			t.Errorf("exit status %d", st)
		}
		restored(t, p)
	})
	t.Run("TERM=dumb", func(t *testing.T) {
		p := openPTY(t, 120, 40)
		cmd := start(t, p, nil, []string{"TERM=dumb"})
		if st := wait(t, cmd, 30*time.Second); st != 0 {
			t.Errorf("exit status %d", st)
		}
		time.Sleep(100 * time.Millisecond)
		out := p.output()
		if strings.Contains(out, "\x1b[?1049h") || !strings.Contains(out, "paciasp") {
			t.Errorf("TERM=dumb: want the plain listing, got ...%q", tail(out, 300))
		}
	})
}
