package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A real node, for tests that run the controller as Pods (Options.Node): a
// kubelet with containerd and runc, CNI's bridge plugin, and kube-scheduler.
// Pods get addresses on NodeBridge inside the sandbox; NodeIP, the bridge's
// own address, is where they reach the apiserver and Prometheus, which then
// listen on every address of the sandbox (there is no kube-proxy, so the
// kubernetes Service's ClusterIP leads nowhere).
const (
	NodeName    = "ic-node"
	NodeIP      = "10.88.0.1"
	NodeBridge  = "icnode0"
	nodeSubnet  = "10.88.0.0/16"
	podRangeLow = "10.88.1.1"
	// PauseRef is the sandbox image containerd is configured with; it is
	// imported from the cache (e2e/image's pause), as there is no registry.
	PauseRef = "registry.k8s.io/pause:3.10"

	kubeletPort          = 10250
	kubeletHealthzPort   = 10248
	kubeSchedulerPort    = 10259
	kubeAPIServerPortEnv = "6443"
)

// NodeOptions configure the node; see Options.Node.
type NodeOptions struct {
	// Images are image archives (`docker save` tarballs or OCI archives) to
	// import into the node's containerd before the kubelet starts, e.g. the
	// controller's image built by e2e/image.
	Images []string
}

// APIServerInPods is the apiserver's address as Pods on the node reach it:
// the value of KUBERNETES_SERVICE_HOST and _PORT an overlay sets.
func APIServerInPods() (host, port string) { return NodeIP, kubeAPIServerPortEnv }

// PrometheusURLInPods is Prometheus as Pods on the node reach it.
func PrometheusURLInPods() string { return "http://" + NodeIP + ":" + strconv.Itoa(prometheusPort) }

// node is the running node's processes and the cgroup it owns.
type node struct {
	dir        string
	sock       string // containerd's socket
	cgroupRoot string // e.g. /ingress-canary-e2e-1234, in every v1 hierarchy
	containerd *component
	kubelet    *component
	scheduler  *component
}

func (c *Cluster) nodeDir(parts ...string) string {
	return filepath.Join(append([]string{c.dir, "node"}, parts...)...)
}

// startNode brings up the node's network, containerd (with the images),
// the kubelet and kube-scheduler, and waits for the Node to be Ready.
func (c *Cluster) startNode(ctx context.Context, o NodeOptions) error {
	// Named after the work dir: unique per cluster, and it leads to the logs.
	n := &node{dir: c.nodeDir(), cgroupRoot: "/ingress-canary-e2e-" + filepath.Base(c.dir)}
	c.node = n
	for _, d := range []string{"cni", "ipam", "containerd/root", "containerd/state", "kubelet", "pods", "sched"} {
		if err := mkdirs(c.nodeDir(d)); err != nil {
			return err
		}
	}
	if err := privateRuntimeDirs(); err != nil {
		return err
	}
	if err := shadowKernelTunables(c.nodeDir("sysctl")); err != nil {
		return err
	}
	if err := nodeNetwork(c.nodeDir("cni"), c.nodeDir("ipam")); err != nil {
		return err
	}
	if err := makeCgroupRoot(n.cgroupRoot); err != nil {
		return err
	}
	if err := c.startContainerd(ctx, n, o.Images); err != nil {
		return err
	}
	if err := c.startKubelet(ctx, n); err != nil {
		return err
	}
	return c.startScheduler(ctx, n)
}

// privateRuntimeDirs mounts fresh tmpfs over the fixed paths containerd and
// the CNI plugins use besides their configured ones (shim sockets under
// /run/containerd, network namespaces under /run/netns, CNI's result cache
// under /var/lib/cni): the sandbox's mount namespace is private, so nothing
// lands on the host and nothing is shared with another sandbox.
func privateRuntimeDirs() error {
	for _, d := range []string{"/run/containerd", "/run/netns", "/var/lib/cni"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount("tmpfs", d, "tmpfs", 0, "mode=0755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", d, err)
		}
	}
	return nil
}

// kubeletTunables are the sysctls the kubelet sets at start unless they already
// have these values (protectKernelDefaults: false), and which are not
// namespaced: it would change the whole machine's (panic on oops, overcommit).
var kubeletTunables = map[string]string{
	"/proc/sys/vm/overcommit_memory":      "1",
	"/proc/sys/kernel/panic":              "10",
	"/proc/sys/kernel/panic_on_oops":      "1",
	"/proc/sys/vm/panic_on_oom":           "0",
	"/proc/sys/kernel/keys/root_maxkeys":  "1000000",
	"/proc/sys/kernel/keys/root_maxbytes": "25000000",
}

// shadowKernelTunables bind-mounts, in the sandbox's mount namespace only,
// files holding the kubelet's values over those sysctls: the kubelet finds
// nothing to change, and the machine keeps its own settings.
func shadowKernelTunables(dir string) error {
	if err := mkdirs(dir); err != nil {
		return err
	}
	for path, val := range kubeletTunables {
		f := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(path, "/proc/sys/"), "/", "."))
		if err := os.WriteFile(f, []byte(val+"\n"), 0o444); err != nil {
			return err
		}
		if err := syscall.Mount(f, path, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("shadow %s: %w", path, err)
		}
	}
	return nil
}

// nodeNetwork creates the bridge with NodeIP and the CNI configuration that
// puts each Pod on it (bridge + host-local IPAM, and portmap).
func nodeNetwork(cniDir, ipamDir string) error {
	script := fmt.Sprintf("ip link add %[1]s type bridge && ip addr add %[2]s/16 dev %[1]s && ip link set %[1]s up",
		NodeBridge, NodeIP)
	if out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
		return fmt.Errorf("node bridge: %w: %s", err, out)
	}
	conf := fmt.Sprintf(`{"cniVersion": "0.4.0", "name": "ic-node", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": %q,
            "ranges": [[{"subnet": %q, "rangeStart": %q, "gateway": %q}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
`, NodeBridge, ipamDir, nodeSubnet, podRangeLow, NodeIP)
	return os.WriteFile(filepath.Join(cniDir, "10-ic-node.conflist"), []byte(conf), 0o644)
}

// cgroupV1Dir is where cgroup v1 hierarchies are mounted on this kind of
// machine (a tmpfs with one directory per controller).
const cgroupV1Dir = "/sys/fs/cgroup"

// cgroupHierarchies lists the v1 hierarchies, and with unified the v2 one
// too (mounted at unified/ beside them: runc creates the Pods' cgroups there
// as well, so they are removed there too).
func cgroupHierarchies(unified bool) ([]string, error) {
	entries, err := os.ReadDir(cgroupV1Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && (unified || e.Name() != "unified") {
			out = append(out, filepath.Join(cgroupV1Dir, e.Name()))
		}
	}
	return out, nil
}

// makeCgroupRoot creates the kubelet's --cgroup-root in every hierarchy, so
// that its Pods stay out of the host's cgroups and Stop can remove them. A
// cpuset cgroup takes no task until its cpus and mems are set: copy them.
func makeCgroupRoot(root string) error {
	hs, err := cgroupHierarchies(false)
	if err != nil {
		return err
	}
	for _, h := range hs {
		dir := filepath.Join(h, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cgroup root: %w", err)
		}
		if filepath.Base(h) == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(h, f))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, f), v, 0o644)
				}
				if err != nil {
					return fmt.Errorf("cgroup root %s: %w", f, err)
				}
			}
		}
	}
	return nil
}

// removeCgroupRoot kills every process left in root (containers whose shims
// are gone) and removes its cgroups, deepest first.
func removeCgroupRoot(root string) error {
	hs, err := cgroupHierarchies(true)
	if err != nil {
		return err
	}
	var dirs []string
	for _, h := range hs {
		_ = filepath.WalkDir(filepath.Join(h, root), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var left []string
	for attempt := 0; attempt < 50; attempt++ {
		left = left[:0]
		for _, d := range dirs {
			if data, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(data)) {
					if pid, err := strconv.Atoi(f); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				left = append(left, d)
			}
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("cgroups not removed: %v", left)
}

func (c *Cluster) startContainerd(ctx context.Context, n *node, images []string) error {
	// On the sandbox's private /run/containerd: a socket path under the work
	// dir is too long for containerd ("unix socket path too long (> 104)").
	n.sock = "/run/containerd/containerd.sock"
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Here even root lacks CAP_SYS_RESOURCE, so runc cannot give the pause
  # container the kubelet's oom_score_adj of -998 ("can't get final child's
  # PID from pipe: EOF"): clamp scores to containerd's own instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, c.nodeDir("containerd", "root"), c.nodeDir("containerd", "state"), n.sock, PauseRef,
		c.bins.CNIPlugins, c.nodeDir("cni"))
	path := c.nodeDir("containerd", "config.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := startComponent("containerd", c.logPath("containerd"), nil, c.bins.Containerd, "--config="+path)
	if err != nil {
		return err
	}
	n.containerd = p
	if err := waitReady(ctx, p, 20*time.Second, func(context.Context) error {
		_, err := os.Stat(n.sock)
		return err
	}); err != nil {
		return err
	}
	for _, img := range append([]string{c.bins.PauseImage}, images...) {
		t := time.Now()
		out, err := exec.CommandContext(ctx, c.bins.Ctr, "--address", n.sock, "--namespace", "k8s.io",
			"images", "import", img).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ctr images import %s: %w: %s", img, err, out)
		}
		c.logf("node: imported %s in %.2fs", filepath.Base(img), time.Since(t).Seconds())
	}
	return nil
}

func (c *Cluster) startKubelet(ctx context.Context, n *node) error {
	conf := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine's cgroups are v1: the kubelet >= 1.35 refuses them unless told.
failCgroupV1: false
# No systemd here; containerd 1.6 cannot report its driver (RuntimeConfig).
cgroupDriver: cgroupfs
cgroupRoot: %q
failSwapOn: false
containerRuntimeEndpoint: unix://%s
address: %s
port: %d
healthzBindAddress: 127.0.0.1
healthzPort: %d
readOnlyPort: 0
# Only the sandbox reaches it.
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
podLogsDir: %q
resolvConf: ""
# A test machine's disk is often fuller than eviction defaults allow.
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`, n.cgroupRoot, n.sock, NodeIP, kubeletPort, kubeletHealthzPort, c.nodeDir("pods"))
	path := c.nodeDir("kubelet", "config.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := startComponent("kubelet", c.logPath("kubelet"), nil, c.bins.Kubelet,
		"--config="+path, "--kubeconfig="+c.Kubeconfig,
		"--root-dir="+c.nodeDir("kubelet"), "--hostname-override="+NodeName, "--node-ip="+NodeIP, "--v=1")
	if err != nil {
		return err
	}
	n.kubelet = p
	return waitReady(ctx, p, 60*time.Second, func(ctx context.Context) error {
		node, err := c.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("node %s not Ready: %s", NodeName, cond.Message)
			}
		}
		return fmt.Errorf("node %s has no Ready condition yet", NodeName)
	})
}

func (c *Cluster) startScheduler(ctx context.Context, n *node) error {
	p, err := startComponent("kube-scheduler", c.logPath("kube-scheduler"), nil, c.bins.KubeScheduler,
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kubeSchedulerPort),
		"--cert-dir="+c.nodeDir("sched"), "--leader-elect=false", "--v=0")
	if err != nil {
		return err
	}
	n.scheduler = p
	return waitReady(ctx, p, 30*time.Second,
		expectStatus(fmt.Sprintf("https://127.0.0.1:%d/healthz", kubeSchedulerPort), c.pki.adminToken, 200))
}

// stop stops the scheduler, the kubelet and containerd (with its shims, which
// share its session), then kills what is left in the Pods' cgroups.
func (n *node) stop() error {
	if n == nil {
		return nil
	}
	var errs []error
	for _, p := range []*component{n.scheduler, n.kubelet, n.containerd} {
		if p != nil {
			errs = append(errs, p.stop(10*time.Second))
		}
	}
	return errors.Join(append(errs, removeCgroupRoot(n.cgroupRoot))...)
}

// Kubectl returns a kubectl command (KUBECTL_BIN) acting as admin on this
// cluster, e.g. Kubectl(ctx, "apply", "-k", dir). Options.Node only.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, c.bins.Kubectl, append([]string{"--kubeconfig=" + c.Kubeconfig}, args...)...)
}

// ContainerPID returns the PID, inside the sandbox, of a running container's
// first process, from its status' containerID ("containerd://<id>"); the
// container's root filesystem is then /proc/<pid>/root.
func (c *Cluster) ContainerPID(ctx context.Context, containerID string) (int, error) {
	if c.node == nil {
		return 0, errors.New("cluster: no node (Options.Node)")
	}
	id := strings.TrimPrefix(containerID, "containerd://")
	out, err := exec.CommandContext(ctx, c.bins.Ctr, "--address", c.node.sock, "--namespace", "k8s.io",
		"tasks", "ls").Output()
	if err != nil {
		return 0, fmt.Errorf("ctr tasks ls: %w", err)
	}
	// TASK PID STATUS
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("container %s: no running task", id)
}
