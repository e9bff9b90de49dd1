//go:build !unix

package bench

import "time"

// cpuTime is 0 where the process's CPU time is not measured here: the
// cpu-µs/op metrics then read 0.
func cpuTime() time.Duration { return 0 }
