// SPDX-License-Identifier: GPL-2.0-only

// Package par runs independent pieces of work (the functions of a program)
// on up to GOMAXPROCS goroutines with a loop's error and panic semantics.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls f(0) ... f(n-1), the functions of a program being
// independent of each other, on up to GOMAXPROCS goroutines. It returns the
// error of the lowest index that failed, and re-panics with the panic of
// the lowest index that panicked, on the caller's goroutine: as a loop
// would, except that the calls after a failure still run.
func ForEach(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	panics := make([]any, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							panics[i] = r
						}
					}()
					errs[i] = f(i)
				}()
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if panics[i] != nil {
			panic(panics[i])
		}
		if errs[i] != nil {
			return errs[i]
		}
	}
	return nil
}
