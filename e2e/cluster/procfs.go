package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

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
