package browsers

import (
	"bytes"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a program started in a process group of its own, so that
// stopping it also stops every process it started (Firefox's content
// processes, the MiniBrowser that WebKitWebDriver launches).
type process struct {
	cmd  *exec.Cmd
	out  *tail
	done chan struct{}
}

// startProcess starts cmd in a new process group, keeping the end of what
// it writes on stdout and stderr for error messages (unless the caller set
// cmd.Stderr).
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, out: &tail{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	go func() {
		cmd.Wait() //nolint:errcheck // the process is expected to be killed
		close(p.done)
	}()
	return p, nil
}

// stop kills the process group and waits for the process to be reaped.
func (p *process) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // it may have ended already
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail keeps the last few KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4096

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = t.buf[len(t.buf)-tailSize:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
