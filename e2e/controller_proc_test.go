package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
		bin: bin, c: c, logPath: filepath.Join(c.WorkDir(), "logs", name+".log"), probeAddr: probeAddr,
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
