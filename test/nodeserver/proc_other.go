//go:build !unix

package nodeserver

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// signalGroup has no process groups to use here: it kills the process (server.js also
// exits when its stdin closes, which Stop does too).
func signalGroup(cmd *exec.Cmd, kill bool) {
	_ = cmd.Process.Kill()
}
