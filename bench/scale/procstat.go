package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports here.
const clockTicks = 100

// statusKB reads fields of /proc/<pid>/status given in kB (e.g. VmRSS, VmHWM).
func statusKB(pid int, fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, f := range fields {
			if v, ok := strings.CutPrefix(line, f+":"); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err == nil {
					out[f] = n
				}
			}
		}
	}
	return out, nil
}

// procStat is the part of /proc/<pid>/stat the benchmark reads.
type procStat struct {
	comm string
	cpu  float64 // utime + stime, seconds
}

func readProcStat(path string) (procStat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

// parseProcStat parses "pid (comm) state ppid ... utime stime ..."; comm may
// hold spaces and parentheses, so fields are counted from the last ')'.
func parseProcStat(s string) (procStat, error) {
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("malformed stat %q", s)
	}
	f := strings.Fields(s[closing+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("short stat %q", s)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("stat %q: bad utime/stime", s)
	}
	return procStat{comm: s[open+1 : closing], cpu: (utime + stime) / clockTicks}, nil
}

func cpuSeconds(pid int) float64 {
	st, err := readProcStat(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return st.cpu
}

// components names the sandbox's processes by the start of their comm
// (15 characters at most), to show where the machine's CPU went.
var components = []struct{ prefix, name string }{
	{"ingress-canary", "controller"},
	{"kube-apiserver", "kube-apiserver"},
	{"etcd", "etcd"},
	{"prometheus", "prometheus"},
	{"kube-controller", "kube-controller-manager"},
}

// componentCPU is the CPU seconds used so far by each component, and by this
// process ("benchmark": the fake ingress-nginx, the watches). Inside the
// sandbox /proc lists only the sandbox's processes.
func componentCPU() map[string]float64 {
	out := map[string]float64{"benchmark": cpuSeconds(os.Getpid())}
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		st, err := readProcStat(p)
		if err != nil {
			continue
		}
		for _, c := range components {
			if strings.HasPrefix(st.comm, c.prefix) {
				out[c.name] += st.cpu
			}
		}
	}
	return out
}

// machineCPU reads the whole machine's CPU time from /proc/stat (not
// namespaced): busy and total, in seconds over all cores.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		total += n
		// idle and iowait are fields 4 and 5 of the cpu line; guest time is
		// already counted in user.
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
		if i >= 8 {
			total -= n
		}
	}
	return busy / clockTicks, total / clockTicks
}

// loadavg is /proc/loadavg's three load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// rssSampler samples a process's VmRSS every second, and with it the
// controller's workqueue depth and syncs done so far (from its /metrics; -1
// when unreadable).
type rssSampler struct {
	pid   int
	mu    sync.Mutex
	at    []time.Time
	kb    []int64
	depth []float64
	syncs []float64
	stop  chan struct{}
	done  chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if v, err := statusKB(pid, "VmRSS"); err == nil {
				depth, syncs := queueDepth()
				s.mu.Lock()
				s.at, s.kb, s.depth, s.syncs = append(s.at, time.Now()), append(s.kb, v["VmRSS"]), append(s.depth, depth), append(s.syncs, syncs)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) Stop() {
	close(s.stop)
	<-s.done
}

// between returns the RSS samples taken in [from, to], in kB, and the
// workqueue depths read with them.
func (s *rssSampler) between(from, to time.Time) ([]int64, []float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kb []int64
	var depth []float64
	for i, t := range s.at {
		if !t.Before(from) && !t.After(to) {
			kb = append(kb, s.kb[i])
			if s.depth[i] >= 0 {
				depth = append(depth, s.depth[i])
			}
		}
	}
	return kb, depth
}

// backlog is the controller's sync rate in [from, to] while its queue held
// work: over the seconds that began and ended with a non-empty queue, the
// workers never waited for work, so the rate is what the API server (and
// the controller) let them do.
func (s *rssSampler) backlog(from, to time.Time) Backlog {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b Backlog
	for i := 1; i < len(s.at); i++ {
		if s.at[i-1].Before(from) || s.at[i].After(to) || s.depth[i-1] <= 0 || s.depth[i] <= 0 || s.syncs[i-1] < 0 || s.syncs[i] < 0 {
			continue
		}
		b.Seconds += s.at[i].Sub(s.at[i-1]).Seconds()
		b.Syncs += s.syncs[i] - s.syncs[i-1]
	}
	return b
}

// Backlog is the syncs done over the seconds the queue was never empty.
type Backlog struct{ Seconds, Syncs float64 }

// Rate is syncs per second while backlogged.
func (b Backlog) Rate() float64 {
	if b.Seconds <= 0 {
		return 0
	}
	return b.Syncs / b.Seconds
}

var depthClient = &http.Client{Timeout: 900 * time.Millisecond}

// queueDepth reads the controller's workqueue_depth (all its queues) and
// the syncs it has done, -1 when it cannot.
func queueDepth() (depth, syncs float64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	f, err := scrape(ctx, depthClient, "http://"+controllerMetricsAddr+"/metrics")
	if err != nil || len(f["workqueue_depth"].GetMetric()) == 0 {
		return -1, -1
	}
	return f.sum("workqueue_depth", nil), f.hist("ingress_canary_reconcile_duration_seconds", nil).Count
}
