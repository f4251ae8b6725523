package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
)

// Prometheus is a real Prometheus server run for the benchmark: loopback
// only, storage in a temporary directory, one scrape target.
type Prometheus struct {
	URL string
	API v1.API

	cmd    *exec.Cmd
	exited chan struct{}
	dir    string
	log    *os.File
}

// prometheusBinary finds Prometheus on PATH, else Debian's package path.
func prometheusBinary() (string, error) {
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p, nil
	}
	const debian = "/usr/bin/prometheus"
	if _, err := os.Stat(debian); err != nil {
		return "", errors.New("the prometheus binary is missing: install Debian's package with " +
			"`apt-get install -y --no-install-recommends prometheus` (as root)")
	}
	return debian, nil
}

// StartPrometheus runs bin scraping target every second. Stop must be called
// whatever happens next; it is safe on a partly started server.
func StartPrometheus(ctx context.Context, bin, target string) (*Prometheus, error) {
	dir, err := os.MkdirTemp("", "bench-queries-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	p := &Prometheus{dir: dir, exited: make(chan struct{})}
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nginx\n    static_configs:\n      - targets: [%q]\n", target)
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		close(p.exited)
		return p, fmt.Errorf("write prometheus config: %w", err)
	}
	if p.log, err = os.Create(filepath.Join(dir, "prometheus.log")); err != nil {
		close(p.exited)
		return p, fmt.Errorf("prometheus log: %w", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		close(p.exited)
		return p, err
	}
	p.cmd = exec.Command(bin,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// Its own process group keeps a Ctrl-C at the terminal from reaching it
	// (Stop alone ends it, after the benchmark has printed what it has), and
	// lets Stop kill the whole group. Pdeathsig is the backstop should the
	// benchmark itself be killed.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		close(p.exited)
		return p, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	p.URL = "http://" + addr
	// The same client the controller builds from --prometheus-url.
	if p.API, err = prom.APIFor(p.URL); err != nil {
		return p, err
	}
	return p, p.waitReady(ctx, 15*time.Second)
}

// Stop kills Prometheus' process group and removes its storage. SIGKILL
// rather than SIGTERM: nothing it stored is wanted, and a graceful shutdown
// of a busy TSDB can take seconds.
func (p *Prometheus) Stop() {
	if p == nil {
		return
	}
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	}
	if p.log != nil {
		_ = p.log.Close()
	}
	_ = os.RemoveAll(p.dir)
}

// LogTail returns the end of Prometheus' log, for an error message.
func (p *Prometheus) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "prometheus.log"))
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return strings.TrimSpace(string(b))
}

// RSS is Prometheus' resident memory now, as /proc reports it.
func (p *Prometheus) RSS() string {
	if p.cmd == nil || p.cmd.Process == nil {
		return "?"
	}
	return procStatus(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid), "VmRSS")
}

// waitReady waits until Prometheus answers a query, or fails if it exits.
func (p *Prometheus) waitReady(ctx context.Context, timeout time.Duration) error {
	return p.poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		_, _, err := p.API.Query(ctx, "1", time.Now())
		return err == nil, nil
	})
}

// WaitForSeries waits until Prometheus has scraped want requests series.
// Prometheus 2.42 applies new scrape targets every 5 s, so this takes a few
// seconds whatever the fleet.
func (p *Prometheus) WaitForSeries(ctx context.Context, want int, timeout time.Duration) error {
	const q = `count(` + requestsName + `)`
	return p.poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		v, _, err := p.API.Query(ctx, q, time.Now())
		if err != nil {
			return false, fmt.Errorf("query %q: %w", q, err)
		}
		vec, ok := v.(model.Vector)
		return ok && len(vec) == 1 && int(vec[0].Value) == want, nil
	})
}

// poll calls check every 100 ms until it says done, Prometheus exits, ctx
// ends or timeout passes.
func (p *Prometheus) poll(ctx context.Context, timeout time.Duration, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		done, err := check(attempt)
		cancelAttempt()
		if err != nil || done {
			return err
		}
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited: %s", p.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("prometheus at %s not ready: %w", p.URL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freeLoopbackAddr returns a loopback address whose port was free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// procStatus returns one field of a /proc/<pid>/status file, e.g. "VmRSS",
// as written there ("123456 kB"), or "?" when it cannot be read.
func procStatus(path, field string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
