package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// stateDir holds the running cluster's state; e2e/setup/sandbox.sh reads the
// same path ($IC_CACHE/up).
func stateDir() string { return filepath.Join(cluster.CacheDir(), "up") }

func pidFile() string   { return filepath.Join(stateDir(), "pid") }
func stateFile() string { return filepath.Join(stateDir(), "state.env") }
func logFile() string   { return filepath.Join(stateDir(), "cluster.log") }
func workDir() string   { return filepath.Join(stateDir(), "work") }

// runningPID returns the recorded sandbox PID if that process still lives.
func runningPID() (int, bool) {
	data, err := os.ReadFile(pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return pid, false
	}
	// A recycled PID would not be unshare.
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return pid, strings.TrimSpace(string(comm)) == "unshare"
}

// writeState records how to reach the cluster, for people and scripts.
func writeState(c *cluster.Cluster) error {
	content := fmt.Sprintf("KUBECONFIG=%s\nHTTP_URL=%s\nPROMETHEUS_URL=%s\nWORK_DIR=%s\n",
		c.Kubeconfig, c.HTTPURL, c.PrometheusURL, c.WorkDir())
	tmp := stateFile() + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, stateFile())
}

func howTo() string {
	state, _ := os.ReadFile(stateFile())
	return fmt.Sprintf(`%s
Run commands inside the cluster's sandbox (its network is private):
  e2e/setup/kubectl.sh get ingress -A
  e2e/setup/sandbox.sh curl -s -H 'Host: demo.local' http://127.0.0.1:18080/
  e2e/setup/sandbox.sh curl -s 'http://127.0.0.1:9090/api/v1/query?query=up'
Logs: %s and %s/logs/
Stop: make down   (or: go run ./e2e/cmd/cluster down)`, strings.TrimSpace(string(state)), logFile(), workDir())
}

func status() error {
	pid, ok := runningPID()
	if !ok {
		fmt.Println("cluster: not running")
		return nil
	}
	fmt.Printf("cluster: running (sandbox pid %d)\n%s\n", pid, howTo())
	return nil
}
