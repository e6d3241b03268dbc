// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A kernel capture holds the verifier's output: it runs on the kernel
// memory model, and returns what BPF_PROG_TEST_RUN returned when the
// capture was made (capture.json "run", the zero64.bin packet). The
// captures whose prog arrays name programs captured elsewhere cannot be
// laid out alone and say so.
func TestRunCaptures(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/captures/x86_64-6.18-src/*/*")
	if err != nil || len(dirs) < 20 {
		t.Fatalf("captures: %v %v", dirs, err)
	}
	zero := "0x" + strings.Repeat("00", 64)
	compared := 0
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "capture.json"))
		if err != nil {
			continue // kernel.json beside the programs
		}
		var c struct {
			Run []struct {
				Input  string  `json:"input"`
				Retval *uint32 `json:"retval"`
				Ctx    string  `json:"ctx"`
			} `json:"run"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Run) == 0 || c.Run[0].Input != "zero64.bin" || c.Run[0].Ctx != "" || c.Run[0].Retval == nil {
			continue
		}
		out, errOut, status := runCLI(t, "run", dir, "--arch", "x86_64", "--packet", zero, "--max-steps", "5000000", "--format", "json")
		if status != 0 {
			if !strings.Contains(errOut, "no program \"") {
				t.Errorf("%s: status %d: %s", dir, status, errOut)
			}
			continue
		}
		var res runResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Error != "" || uint32(res.Retval) != *c.Run[0].Retval {
			t.Errorf("%s: retval %d (%s), the kernel returned %d", dir, uint32(res.Retval), res.Error, *c.Run[0].Retval)
		}
		compared++
	}
	if compared < 18 {
		t.Errorf("only %d captures compared", compared)
	}
}

func TestRunCaptureVerifierFlag(t *testing.T) {
	_, errOut, status := runCLI(t, "run", "../testdata/captures/x86_64-6.18-src/xdp/xdp_parse", "--arch", "x86_64", "--verifier", "profile")
	if status != 1 || !strings.Contains(errOut, "already the verifier's output") {
		t.Errorf("status %d: %s", status, errOut)
	}
}
