package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// component is one process the cluster started: etcd, kube-apiserver, ... or,
// wrapped in a Process, one a test started. Each runs in its own session, so that
// it and everything it forks (ingress-nginx puts nginx in a process group of its
// own) can be found and stopped together; see killSession.
type component struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	err     error         // Wait's result, valid after done
}

// startComponent starts argv with its stdout and stderr appended to logPath.
func startComponent(name, logPath string, env []string, argv ...string) (*component, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	fmt.Fprintf(logf, "### %s: %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	// Setsid: a session per component (see killSession). Pdeathsig: if the
	// harness dies without Stop, the component dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &component{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *component) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes an early exit, with the log's tail for the reader.
func (p *component) exitError() error {
	return fmt.Errorf("%s exited: %v; last log lines (%s):\n%s", p.name, p.err, p.logPath, tail(p.logPath, 25))
}

// stop sends SIGTERM to the component (only: ingress-nginx stops its nginx
// itself and fails if nginx is gone first), waits up to grace, then SIGKILLs
// whatever is left of its session. Safe to call twice.
func (p *component) stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	sid := p.cmd.Process.Pid
	_ = syscall.Kill(sid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	killSession(sid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, sid)
	}
	// Children of the session that outlived the leader (re-parented) get a
	// moment to disappear after the SIGKILL.
	deadline := time.Now().Add(3 * time.Second)
	for len(sessionMembers(sid)) > 0 && time.Now().Before(deadline) {
		killSession(sid, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
	if left := sessionMembers(sid); len(left) > 0 {
		return fmt.Errorf("%s: processes %v of its session survived SIGKILL", p.name, left)
	}
	return nil
}

// Process is a process a test started through the cluster (e.g. the
// controller under test), so that Stop stops it too.
type Process struct {
	p *component
}

// StartProcess starts argv inside the sandbox with env added to the
// environment, its output in WorkDir()/logs/<name>.log. Cluster.Stop stops it
// (first, before the components it may depend on); Process.Stop stops it now.
func (c *Cluster) StartProcess(name string, env []string, argv ...string) (*Process, error) {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return nil, fmt.Errorf("cluster stopped; not starting %s", name)
	}
	p, err := startComponent(name, c.logPath(name), env, argv...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.extra = append(c.extra, p)
	c.mu.Unlock()
	return &Process{p: p}, nil
}

// Stop sends SIGTERM, waits up to 10 s, then kills what is left of the
// process's session. Safe to call more than once.
func (p *Process) Stop() error { return p.p.stop(10 * time.Second) }

// Exited reports whether the process has exited (and was reaped).
func (p *Process) Exited() bool { return p.p.exited() }

// Pid is the process id (inside the sandbox).
func (p *Process) Pid() int { return p.p.cmd.Process.Pid }

// LogPath is the file receiving the process's stdout and stderr.
func (p *Process) LogPath() string { return p.p.logPath }

// extraLogs lists extra processes' logs for Logs.
func (c *Cluster) extraLogs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range c.extra {
		out = append(out, p.name+"="+filepath.Clean(p.logPath))
	}
	return out
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
