//go:build unix

package testutil

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time this process has used (user and system, all
// threads): a client's cost, without that of a server in another process.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
