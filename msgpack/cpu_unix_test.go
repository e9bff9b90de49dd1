//go:build unix

package msgpack_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used (user and system, all
// threads): the client's cost, not the server's, which runs in Node.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
