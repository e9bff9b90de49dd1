package serverproc

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// CheckStop stops p and checks what every peer must do on SIGTERM: exit with
// status 0, leaving neither its process nor its process group behind, nor
// its port open. Stop is called twice, to check that it is idempotent.
func CheckStop(t *testing.T, p *Process) {
	t.Helper()
	pid := p.Pid()
	if !alive(pid) {
		t.Fatalf("%s: pid %d not alive after Start", p.name, pid)
	}
	p.Stop()
	p.Stop() // idempotent
	if alive(pid) {
		t.Errorf("%s: pid %d still alive after Stop", p.name, pid)
	}
	if alive(-pid) {
		t.Errorf("%s: process group %d still alive after Stop", p.name, pid)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.Port()), time.Second); err == nil {
		c.Close()
		t.Errorf("%s: port %d still accepts connections after Stop", p.name, p.Port())
	}
	if !p.ExitedCleanly() {
		t.Errorf("%s did not exit cleanly on SIGTERM: %v", p.name, p.cmd.ProcessState)
	}
}

// CheckStdinEOF checks that p exits on its own, cleanly and within 5 s, when
// its stdin closes, as it does when the test binary dies.
func CheckStdinEOF(t *testing.T, p *Process) {
	t.Helper()
	p.CloseStdin()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still running 5s after its stdin was closed", p.name)
	}
	if !p.ExitedCleanly() {
		t.Errorf("%s did not exit cleanly: %v", p.name, p.cmd.ProcessState)
	}
}
