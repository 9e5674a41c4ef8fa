//go:build !unix && !windows

package benchcpu

import "time"

// cpuTime reports that the process's CPU time cannot be read here (Plan 9,
// js/wasm, wasip1): Start then reports no cpu-ns/op metric.
func cpuTime() (time.Duration, bool) { return 0, false }
