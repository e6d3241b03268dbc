// SPDX-License-Identifier: GPL-2.0-only

// Package benchutil helps benchmarks report figures that survive a shared
// machine: the CPU time the process spent per operation next to the wall
// time (on the 2-core development machine, shared with other sessions,
// wall time moved by a factor of five with the load average).
package benchutil

import (
	"testing"
	"time"
)

// CPU measures the process's CPU time (user and system, every thread: GC
// and parallel work included) from Start to Report.
type CPU struct{ start time.Duration }

// Start begins a measurement; call it after b.ResetTimer (or before
// b.Loop).
func Start() CPU { return CPU{processCPU()} }

// Report adds the "cpu-ns/op" metric to b: CPU time since Start divided by
// b.N. Where the platform does not tell the process's CPU time it reports
// nothing.
func (c CPU) Report(b *testing.B) {
	if c.start < 0 || b.N == 0 {
		return
	}
	d := processCPU() - c.start
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
