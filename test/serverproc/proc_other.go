//go:build !unix

package serverproc

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// signalGroup has no process groups to use here: it kills the process (the peer also
// exits when its stdin closes, which Stop does too).
func signalGroup(cmd *exec.Cmd, kill bool) {
	_ = cmd.Process.Kill()
}

// alive cannot tell here: it reports false.
func alive(pid int) bool { return false }
