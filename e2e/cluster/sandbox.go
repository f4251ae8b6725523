package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// SandboxEnv marks a process that runs inside the sandbox.
const SandboxEnv = "INGRESS_CANARY_SANDBOX"

// Bridge is the port-less bridge inside the sandbox that carries the backend
// addresses BridgeAddr(1..BridgeAddrs). It has no route out. Every testapp
// version takes one address from firstBackendAddr on, for the whole run: the e2e
// suite serves about 70 versions (ten releases alone in the first-seconds
// test), so 200 leaves room for more tests.
const (
	Bridge      = "ic0"
	BridgeNet   = "10.203.0"
	BridgeAddrs = 200
)

// BridgeAddr returns the i-th bridge address, e.g. BridgeAddr(10) = "10.203.0.10".
func BridgeAddr(i int) string { return BridgeNet + "." + strconv.Itoa(i) }

// sandboxInit runs as the sandbox's first process, before it execs the real
// program: it brings up the private loopback and the bridge with its addresses.
// The mount namespace is already private (unshare's default propagation) and
// /proc shows only the sandbox's processes (--mount-proc).
const sandboxInit = `set -eu
ip link set lo up
ip link add ` + Bridge + ` type bridge
ip link set ` + Bridge + ` up
i=1
while [ "$i" -le "$IC_BRIDGE_ADDRS" ]; do
  echo "address add ` + BridgeNet + `.$i/24 dev ` + Bridge + `"
  i=$((i+1))
done | ip -batch -
exec "$@"
`

// InSandbox reports whether this process runs inside the sandbox.
func InSandbox() bool { return os.Getenv(SandboxEnv) == "1" }

// SandboxCommand returns a command that runs argv inside a new sandbox: new
// network, mount and PID namespaces (unshare(1), which needs root), with
// loopback and the bridge set up. argv[0] becomes PID 1 of the sandbox; when it
// exits the kernel kills everything else inside. killSignal is what unshare
// sends argv[0] when unshare itself dies (e.g. "SIGKILL", or "SIGTERM" for a
// graceful stop). The command inherits the environment plus SandboxEnv=1.
//
// The caller's files stay visible (only the network and /proc change), so a
// test binary under /tmp/go-build* can be re-executed as it is.
func SandboxCommand(killSignal string, argv ...string) *exec.Cmd {
	args := []string{
		"--net", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"--kill-child=" + killSignal,
		"--", "/bin/sh", "-c", sandboxInit, "sandbox-init",
	}
	cmd := exec.Command("unshare", append(args, argv...)...)
	cmd.Env = append(os.Environ(), SandboxEnv+"=1", "IC_BRIDGE_ADDRS="+strconv.Itoa(BridgeAddrs))
	return cmd
}

// RunInSandbox is for TestMain. Outside the sandbox it re-executes the test
// binary inside a new one (same arguments, environment, stdio) and returns its
// exit code; inside, it runs the tests. So a plain `go test ./e2e/...` from
// the host runs every e2e test in isolation.
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunInSandbox(m)) }
func RunInSandbox(m *testing.M) int { return Sandboxed(m.Run) }

// Sandboxed is RunInSandbox for any program, e.g. a demo's main:
//
//	func main() { os.Exit(cluster.Sandboxed(run)) }
//
// Outside the sandbox it re-executes os.Executable() with the same arguments
// inside a new one and returns its exit code; inside, it returns run().
func Sandboxed(run func() int) int {
	if InSandbox() {
		return run()
	}
	code, err := reexecInSandbox()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster: sandbox:", err)
		return 1
	}
	return code
}

func reexecInSandbox() (int, error) {
	if os.Geteuid() != 0 {
		return 0, errors.New("the e2e sandbox needs root (unshare of network, mount and PID namespaces)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return 0, fmt.Errorf("%w (install util-linux; see e2e/setup/setup.sh)", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := SandboxCommand("SIGKILL", append([]string{exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// If this process dies, unshare dies, and unshare's death kills the sandbox.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// A terminal's Ctrl-C reaches the sandbox directly (same process group);
	// a SIGTERM sent to this process alone is passed on to the sandbox's first
	// process (unshare itself ignores it).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGTERM {
				if pid, err := SandboxInitPID(cmd.Process.Pid); err == nil {
					_ = syscall.Kill(pid, syscall.SIGTERM)
				}
			}
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if code := exit.ExitCode(); code > 0 {
					return code, nil
				}
				return 1, nil // killed by a signal
			}
			if err != nil {
				return 0, err
			}
			return 0, nil
		}
	}
}

// SandboxInitPID returns the host PID of the sandbox's first process, the
// child of the unshare process unsharePID. Signal that process, not unshare:
// unshare --fork blocks SIGINT and SIGTERM while it waits for its child.
func SandboxInitPID(unsharePID int) (int, error) {
	path := fmt.Sprintf("/proc/%d/task/%d/children", unsharePID, unsharePID)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data))
	if len(fields) != 1 {
		return 0, fmt.Errorf("%s: want one child, got %q", path, fields)
	}
	return strconv.Atoi(fields[0])
}
