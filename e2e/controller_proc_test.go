package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

const (
	controllerMetricsAddr = "127.0.0.1:18090"
	controllerProbeAddr   = "127.0.0.1:18091"
)

// controllerProc runs the controller binary under test as a real process, so that
// tests can SIGKILL and restart it.
type controllerProc struct {
	bin     string
	c       *cluster.Cluster
	logPath string
	// args are the flags; they name the kubeconfig, the Lease and the ports.
	args []string
	// probeAddr serves /readyz, which Start waits for.
	probeAddr string
	// metricsAddr serves /metrics (leader_election_master_status).
	metricsAddr string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// newControllerProc is the suite's controller: admin credentials, its Lease in
// kube-system, and the fixed metrics and probe ports.
func newControllerProc(bin string, c *cluster.Cluster) *controllerProc {
	return newControllerProcWith(bin, c, "ingress-canary", c.Kubeconfig, "kube-system", controllerMetricsAddr, controllerProbeAddr)
}

func newControllerProcWith(bin string, c *cluster.Cluster, name, kubeconfig, leaseNamespace, metricsAddr, probeAddr string) *controllerProc {
	return &controllerProc{
		bin: bin, c: c, logPath: filepath.Join(c.WorkDir(), "logs", name+".log"), probeAddr: probeAddr, metricsAddr: metricsAddr,
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--prometheus-url=" + c.PrometheusURL,
			"--metrics-bind-address=" + metricsAddr,
			"--health-probe-bind-address=" + probeAddr,
			"--leader-elect=true",
			"--leader-election-namespace=" + leaseNamespace,
			"--log-format=console",
			"--log-level=info",
			"--promotion-settle=2s",
			"--workers=4",
			"--router=" + controllerRouter(),
			// auto on the Ingress suites, whose clusters serve no Gateway
			// API: the controller must start and work there as before.
			"--gateway-api=" + map[bool]string{true: "true", false: "auto"}[suiteRouter() == gatewaySuite],
		},
	}
}

// Start runs the controller and waits for /readyz.
func (p *controllerProc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, and killed if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("controller exited at start; log %s", p.logPath)
		default:
		}
		if r, err := http.Get("http://" + p.probeAddr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("controller not ready after 30s; log %s", p.logPath)
}

// Kill sends SIGKILL: no lease release, no cleanup, like a node dying.
func (p *controllerProc) Kill() error { return p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (p *controllerProc) Stop() error { return p.signal(syscall.SIGTERM) }

func (p *controllerProc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
	return nil
}

// Exited reports whether the process last started has exited by itself (for
// example "leader election lost"), as a kubelet would notice.
func (p *controllerProc) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// identityRE finds the Lease identity in the controller's "waiting for
// leadership" and "became leader" log lines (console or JSON format).
var identityRE = regexp.MustCompile(`"identity":\s*"([^"]+)"`)

// logIdentities lists, in order, the identities this controllerProc's processes
// logged with message (e.g. "waiting for leadership", "became leader"); each
// start appends to the same log.
func (p *controllerProc) logIdentities(message string) []string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if strings.Contains(line, message) {
			if m := identityRE.FindStringSubmatch(line); m != nil {
				out = append(out, m[1])
			}
		}
		if err != nil {
			return out
		}
	}
}

// identity is the Lease identity of the process last started (from its
// "waiting for leadership" line), or "" if it has not logged one yet.
func (p *controllerProc) identity() string {
	ids := p.logIdentities("waiting for leadership")
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

// leaderMetric reads leader_election_master_status from the process's /metrics:
// 1 while it leads, 0 as a standby, -1 if it cannot be read.
func (p *controllerProc) leaderMetric() int {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "leader_election_master_status{") {
			if strings.HasSuffix(line, " 1") {
				return 1
			}
			return 0
		}
	}
	return -1
}
