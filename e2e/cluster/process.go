package cluster

import (
	"fmt"
	"path/filepath"
	"time"
)

// Process is a process a test started through the cluster (e.g. the
// controller under test), so that Stop stops it too.
type Process struct {
	p *proc
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
	p, err := startProc(name, c.logPath(name), env, argv...)
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
