package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one component process. Each runs in its own session, so that it and
// everything it forks (ingress-nginx puts nginx in a process group of its own)
// can be found and stopped together; see killSession.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	err     error         // Wait's result, valid after done
}

// startProc starts argv with its stdout and stderr appended to logPath.
func startProc(name, logPath string, env []string, argv ...string) (*proc, error) {
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
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes an early exit, with the log's tail for the reader.
func (p *proc) exitError() error {
	return fmt.Errorf("%s exited: %v; last log lines (%s):\n%s", p.name, p.err, p.logPath, tail(p.logPath, 25))
}

// stop sends SIGTERM to the component (only: ingress-nginx stops its nginx
// itself and fails if nginx is gone first), waits up to grace, then SIGKILLs
// whatever is left of its session. Safe to call twice.
func (p *proc) stop(grace time.Duration) error {
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

// killSession signals every process whose session id is sid (found in /proc;
// inside the sandbox's PID namespace, /proc lists only the sandbox's processes).
func killSession(sid int, sig syscall.Signal) {
	for _, pid := range sessionMembers(sid) {
		_ = syscall.Kill(pid, sig)
	}
}

// sessionMembers lists the live (non-zombie) processes of session sid.
func sessionMembers(sid int) []int {
	var pids []int
	for _, info := range listProcs() {
		if info.sid == sid && info.state != "Z" {
			pids = append(pids, info.pid)
		}
	}
	return pids
}

type procInfo struct {
	pid, ppid, sid int
	state, comm    string
}

// listProcs reads /proc/*/stat.
func listProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp session ..."; comm may contain spaces.
		s := string(data)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:])
		if len(f) < 4 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		sid, _ := strconv.Atoi(f[3])
		out = append(out, procInfo{pid: pid, ppid: ppid, sid: sid, state: f[0], comm: s[open+1 : closing]})
	}
	return out
}

// OtherProcesses lists the live processes other than this one and its
// threads, as "pid comm". Inside the sandbox these are exactly the processes
// the harness (or a test) started, so after Stop it should be empty.
func OtherProcesses() []string {
	self := os.Getpid()
	var out []string
	for _, p := range listProcs() {
		if p.pid == self || p.state == "Z" {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s", p.pid, p.comm))
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
