package incluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

const (
	ns            = "ingress-canary" // deploy/namespace.yaml
	deployment    = "ingress-canary"
	lease         = "ingress-canary"
	metricsSvc    = "ingress-canary-metrics"
	controllerSel = "app.kubernetes.io/name=ingress-canary,app.kubernetes.io/component=controller"
	// leaseBound is how long a standby may take over a Lease that was not
	// released: --leader-elect-lease-duration (10 s) plus two retry periods,
	// rounded up (cmd/ingress-canary/flags_test.go holds the defaults to it).
	leaseBound = 15 * time.Second
	// nonRootID is the user and group the Dockerfile and e2e/image declare
	// (USER 65532:65532) and deploy/deployment.yaml's runAsUser/runAsGroup.
	nonRootID = 65532
)

// TestDeployManifestsRunAsPods applies deploy/ through the overlay and checks
// what the manifests promise, in order: both replicas Ready, one Lease
// holder, /metrics through the Service's endpoints, the security context
// really applied, a rollout through ingress-nginx, and a handover within the
// lease bounds, with no step taken twice, when the leader Pod is deleted.
func TestDeployManifestsRunAsPods(t *testing.T) {
	ctx := context.Background()
	c := suite.cluster
	t.Logf("image: %s", strings.TrimSpace(suite.imageReport))

	applied := time.Now()
	out, err := c.Kubectl(ctx, "apply", "-k", filepath.Join(suite.root, "e2e", "incluster", "overlay")).CombinedOutput()
	require.NoError(t, err, "kubectl apply -k:\n%s", out)
	pods := waitReplicasReady(t, 2, 3*time.Minute)
	t.Logf("both replicas Ready %.1fs after kubectl apply", time.Since(applied).Seconds())
	for _, p := range pods {
		t.Logf("pod %s: created→Ready %s (container started at %s)", p.Name, readyAfter(p),
			p.Status.ContainerStatuses[0].State.Running.StartedAt.Format(time.RFC3339))
	}

	leader := waitLeaseHolder(t, "", 30*time.Second)
	t.Logf("Lease held by %s", leader.Name)

	t.Run("metrics through the Service", func(t *testing.T) { checkMetricsViaService(t, pods, leader) })
	t.Run("security context", func(t *testing.T) {
		for _, p := range pods {
			checkContainerHardened(t, p)
		}
	})
	t.Run("disruption budget", checkBudget)
	t.Run("rollout and leader Pod deleted mid-step", func(t *testing.T) { rolloutWithFailover(t, pods, leader) })
	t.Run("leader process SIGKILLed", leaderKilled)
}

// leaderKilled SIGKILLs the leading container's process, as a crash would: no
// release, so another process must wait out the lease from the last renewal it
// saw. The kubelet restarts the container; whichever process then takes the
// Lease (the standby, or the restarted one with a new identity) must do so
// within the lease bounds.
func leaderKilled(t *testing.T) {
	ctx := context.Background()
	pods := waitReplicasReady(t, 2, 2*time.Minute)
	oldID := leaseHolder(ctx)
	leader, ok := podOf(oldID, pods)
	require.True(t, ok, "holder %q is one of %d Pods", oldID, len(pods))
	pid, err := suite.cluster.ContainerPID(ctx, leader.Status.ContainerStatuses[0].ContainerID)
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	var newID string
	eventually(t, 2*leaseBound, "another process holds the Lease", func() (bool, string) {
		newID = leaseHolder(ctx)
		return newID != "" && newID != oldID, "holder " + newID
	})
	takeover := time.Since(killed)
	t.Logf("leader process of %s SIGKILLed; %s held the Lease %.2fs later", leader.Name, newID, takeover.Seconds())
	assert.Less(t, takeover, leaseBound, "takeover within the lease bounds")
	waitReplicasReady(t, 2, 2*time.Minute)
}

// controllerPods lists the Deployment's Pods that are not being deleted.
func controllerPods(ctx context.Context) ([]corev1.Pod, error) {
	list, err := suite.cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: controllerSel})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readyAfter(p corev1.Pod) time.Duration {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Sub(p.CreationTimestamp.Time)
		}
	}
	return -1
}

// waitReplicasReady waits for want Ready controller Pods (and the
// Deployment to count them), and returns them.
func waitReplicasReady(t *testing.T, want int, timeout time.Duration) []corev1.Pod {
	t.Helper()
	ctx := context.Background()
	var pods []corev1.Pod
	eventually(t, timeout, fmt.Sprintf("%d controller Pods Ready", want), func() (bool, string) {
		var err error
		if pods, err = controllerPods(ctx); err != nil {
			return false, err.Error()
		}
		ready := 0
		var states []string
		for _, p := range pods {
			if podReady(p) {
				ready++
			}
			states = append(states, p.Name+"="+string(p.Status.Phase)+podWaiting(p))
		}
		d, err := suite.cluster.Client.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return ready == want && len(pods) == want && d.Status.ReadyReplicas == int32(want),
			fmt.Sprintf("pods %v, deployment ready %d", states, d.Status.ReadyReplicas)
	})
	return pods
}

func podWaiting(p corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return "(unscheduled: " + c.Message + ")"
		}
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Waiting != nil {
			return "(" + s.State.Waiting.Reason + ": " + s.State.Waiting.Message + ")"
		}
	}
	return ""
}

// leaseHolder returns the Lease's holder identity ("" if none).
func leaseHolder(ctx context.Context) string {
	l, err := suite.cluster.Client.CoordinationV1().Leases(ns).Get(ctx, lease, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// podOf maps a Lease identity (<hostname>_<uuid>; a Pod's hostname is its
// name) to its Pod.
func podOf(identity string, pods []corev1.Pod) (corev1.Pod, bool) {
	for _, p := range pods {
		if strings.HasPrefix(identity, p.Name+"_") {
			return p, true
		}
	}
	return corev1.Pod{}, false
}

// waitLeaseHolder waits until a controller Pod other than notName holds the
// Lease. The Pods are listed again each time: after a leader Pod is deleted,
// its replacement may start and win the released Lease before the standby's
// next poll (every 1–2.2 s).
func waitLeaseHolder(t *testing.T, notName string, timeout time.Duration) corev1.Pod {
	t.Helper()
	var leader corev1.Pod
	eventually(t, timeout, "a controller Pod holds the Lease", func() (bool, string) {
		ctx := context.Background()
		holder := leaseHolder(ctx)
		pods, err := controllerPods(ctx)
		if err != nil {
			return false, err.Error()
		}
		p, ok := podOf(holder, pods)
		leader = p
		return ok && p.Name != notName, "holder " + holder
	})
	return leader
}

// checkMetricsViaService scrapes every endpoint of the metrics Service, as a
// ServiceMonitor makes Prometheus do: both replicas answer, and
// leader_election_master_status is 1 on the Lease holder only.
func checkMetricsViaService(t *testing.T, pods []corev1.Pod, leader corev1.Pod) {
	ctx := context.Background()
	var targets []string
	eventually(t, 30*time.Second, "the metrics Service has two ready endpoints", func() (bool, string) {
		slices, err := suite.cluster.Client.DiscoveryV1().EndpointSlices(ns).List(ctx,
			metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + metricsSvc})
		if err != nil {
			return false, err.Error()
		}
		targets = targets[:0]
		for _, s := range slices.Items {
			for _, port := range s.Ports {
				if port.Name == nil || *port.Name != "metrics" || port.Port == nil {
					continue
				}
				for _, e := range s.Endpoints {
					if e.Conditions.Ready != nil && *e.Conditions.Ready {
						targets = append(targets, net.JoinHostPort(e.Addresses[0], strconv.Itoa(int(*port.Port))))
					}
				}
			}
		}
		return len(targets) == 2, fmt.Sprintf("targets %v", targets)
	})
	ips := map[string]string{}
	for _, p := range pods {
		ips[p.Status.PodIP] = p.Name
	}
	for _, target := range targets {
		host, _, _ := net.SplitHostPort(target)
		body := get(t, "http://"+target+"/metrics")
		want := "0"
		if ips[host] == leader.Name {
			want = "1"
		}
		assert.Contains(t, body, "leader_election_master_status{name=\""+lease+"\"} "+want,
			"%s (%s) scraped through the Service's endpoints", target, ips[host])
		assert.Contains(t, body, "go_goroutines", "%s serves the Go runtime metrics", target)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	return string(b)
}

// checkContainerHardened looks at the container's process from outside, as
// the kernel sees it: its user and group are the image's declared non-root
// ones, it has no capabilities and no way to gain privileges, and its root
// filesystem refuses a write (even root's, through /proc/<pid>/root).
func checkContainerHardened(t *testing.T, p corev1.Pod) {
	ctx := context.Background()
	require.NotEmpty(t, p.Status.ContainerStatuses)
	pid, err := suite.cluster.ContainerPID(ctx, p.Status.ContainerStatuses[0].ContainerID)
	require.NoError(t, err)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	uid, gid := strconv.Itoa(nonRootID), strconv.Itoa(nonRootID)
	assert.Equal(t, strings.Repeat(uid+" ", 3)+uid, fields["Uid"], "%s: real, effective, saved and fs UID", p.Name)
	assert.Equal(t, strings.Repeat(gid+" ", 3)+gid, fields["Gid"], "%s: GIDs", p.Name)
	assert.Equal(t, "0000000000000000", fields["CapEff"], "%s: capabilities drop ALL", p.Name)
	assert.Equal(t, "0000000000000000", fields["CapBnd"], "%s: bounding set empty", p.Name)
	assert.Equal(t, "1", fields["NoNewPrivs"], "%s: allowPrivilegeEscalation false", p.Name)
	assert.Equal(t, "2", fields["Seccomp"], "%s: RuntimeDefault seccomp filter", p.Name)

	// deploy/deployment.yaml's limits (128Mi, 500m), as the kernel enforces them.
	assert.Equal(t, "134217728", cgroupValue(t, pid, "memory", "memory.limit_in_bytes"), "%s: memory limit", p.Name)
	assert.Equal(t, "50000", cgroupValue(t, pid, "cpu", "cpu.cfs_quota_us"), "%s: CPU quota per 100 ms", p.Name)

	path := fmt.Sprintf("/proc/%d/root/write-test", pid)
	err = os.WriteFile(path, []byte("x"), 0o644)
	assert.True(t, errors.Is(err, syscall.EROFS), "%s: a write to the root filesystem must fail with EROFS, got %v", p.Name, err)
	_, err = os.Stat(fmt.Sprintf("/proc/%d/root/ingress-canary", pid))
	assert.NoError(t, err, "%s: /proc/<pid>/root is the container's filesystem", p.Name)
}

// cgroupValue reads a file of the process's cgroup v1 in hierarchy h.
func cgroupValue(t *testing.T, pid int, h, file string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		// "4:memory:/ingress-canary-e2e-.../kubepods/burstable/pod.../<id>"
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && slices.Contains(strings.Split(parts[1], ","), h) {
			v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", h, parts[2], file))
			require.NoError(t, err)
			return strings.TrimSpace(string(v))
		}
	}
	require.FailNow(t, "no "+h+" cgroup", "%s", data)
	return ""
}

// checkBudget: with both replicas healthy, the PodDisruptionBudget allows
// exactly one voluntary disruption.
func checkBudget(t *testing.T) {
	eventually(t, 30*time.Second, "the PDB allows one disruption", func() (bool, string) {
		pdb, err := suite.cluster.Client.PolicyV1().PodDisruptionBudgets(ns).Get(context.Background(), "ingress-canary", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := pdb.Status
		return s.CurrentHealthy == 2 && s.DisruptionsAllowed == 1,
			fmt.Sprintf("healthy %d, desired %d, allowed %d", s.CurrentHealthy, s.DesiredHealthy, s.DisruptionsAllowed)
	})
}

// rolloutWithFailover runs a rollout through ingress-nginx with the
// controller Pods, deletes the leader Pod in the middle of a step, and
// checks that the standby took the Lease within the lease bounds, that no
// step was started twice, and that the rollout succeeded.
func rolloutWithFailover(t *testing.T, pods []corev1.Pod, leader corev1.Pod) {
	ctx := context.Background()
	c := suite.cluster
	appNS, host := "incluster-app", "incluster.e2e.local"
	require.NoError(t, c.DeployVersion(ctx, appNS, "web-v1", "incluster-v1"))
	require.NoError(t, c.DeployVersion(ctx, appNS, "web-v2", "incluster-v2"))
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	_, err := c.Client.NetworkingV1().Ingresses(appNS).Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: appNS},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web-v1", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitServing(t, host, "incluster-v1")

	g, err := traffic.New(traffic.Config{URL: c.HTTPURL + "/", Host: host, RPS: 40, Concurrency: 8,
		MaxRequests: 40 * 600, MaxDuration: 10 * time.Minute, Timeout: 5 * time.Second})
	require.NoError(t, err)
	tctx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	go g.Run(tctx)

	statuses := recordStatuses(t, appNS)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		annotations.Prefix + "canary-service": "web-v2", annotations.Prefix + "steps": "10,20,30,40",
		annotations.Prefix + "interval": "8s", annotations.Prefix + "min-requests": "20",
		// 40 rps can show a spotless canary below 10 % in seconds, not below
		// the default 1 % (about 420 canary requests).
		annotations.Prefix + "max-error-rate": "10%",
	}}})
	_, err = c.Client.NetworkingV1().Ingresses(appNS).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)

	// Mid-step 2: delete the leader Pod (kubectl delete's default grace: the
	// controller gets SIGTERM and releases the Lease).
	st := waitStatus(t, appNS, 90*time.Second, "step 2", func(s weights.Status) bool { return s.Step == 2 && s.StepStarted != nil })
	time.Sleep(time.Until(st.StepStarted.Add(3 * time.Second)))
	deleted := time.Now()
	require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(ctx, leader.Name, metav1.DeleteOptions{}))
	newLeader := waitLeaseHolder(t, leader.Name, 2*leaseBound)
	handover := time.Since(deleted)
	role := "the standby"
	if !slices.ContainsFunc(pods, func(p corev1.Pod) bool { return p.Name == newLeader.Name }) {
		role = "its replacement"
	}
	t.Logf("leader Pod %s deleted; %s (%s) held the Lease %.2fs later", leader.Name, newLeader.Name, role, handover.Seconds())
	assert.Less(t, handover, leaseBound, "handover within the lease bounds")

	final := waitStatus(t, appNS, 4*time.Minute, "Succeeded", func(s weights.Status) bool {
		return s.Phase == weights.PhaseSucceeded || s.Phase == weights.PhaseFailed
	})
	stopTraffic()
	assert.Equal(t, weights.PhaseSucceeded, final.Phase, "the rollout completes: %s", final.Message)
	counts := g.Snapshot()
	t.Logf("traffic during the rollout: %s", counts)

	// No step taken twice: each step's window start was written once, and
	// steps went up by one at a time.
	started := map[int]map[time.Time]bool{}
	last := 0
	for _, s := range statuses() {
		if s.StepStarted == nil || s.Step == 0 {
			continue
		}
		if started[s.Step] == nil {
			started[s.Step] = map[time.Time]bool{}
		}
		started[s.Step][s.StepStarted.UTC()] = true
		assert.True(t, s.Step == last || s.Step == last+1, "step %d after step %d", s.Step, last)
		last = s.Step
	}
	for step, starts := range started {
		assert.Len(t, starts, 1, "step %d started once, got %v", step, starts)
	}
	// The Deployment replaces the deleted Pod.
	waitReplicasReady(t, 2, 2*time.Minute)
}

// waitServing waits until 5 requests in a row answer 200 from version.
func waitServing(t *testing.T, host, version string) {
	ok := 0
	eventually(t, 60*time.Second, "nginx serves "+host+" from "+version, func() (bool, string) {
		req, _ := http.NewRequest(http.MethodGet, suite.cluster.HTTPURL+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ok = 0
			return false, err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode == 200 && resp.Header.Get("X-Version") == version {
			ok++
		} else {
			ok = 0
		}
		return ok >= 5, fmt.Sprintf("status %d version %q", resp.StatusCode, resp.Header.Get("X-Version"))
	})
}

func status(ctx context.Context, appNS string) (weights.Status, error) {
	ing, err := suite.cluster.Client.NetworkingV1().Ingresses(appNS).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		return weights.Status{}, err
	}
	return weights.ParseStatus(ing.Annotations[annotations.KeyStatus])
}

func waitStatus(t *testing.T, appNS string, timeout time.Duration, what string, cond func(weights.Status) bool) weights.Status {
	t.Helper()
	var s weights.Status
	eventually(t, timeout, what, func() (bool, string) {
		var err error
		if s, err = status(context.Background(), appNS); err != nil {
			return false, err.Error()
		}
		return cond(s), fmt.Sprintf("phase %s step %d weight %s: %s", s.Phase, s.Step, s.Weight, s.Message)
	})
	return s
}

// recordStatuses watches the primary Ingress and keeps every status the
// controllers wrote; the returned function lists them.
func recordStatuses(t *testing.T, appNS string) func() []weights.Status {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := suite.cluster.Client.NetworkingV1().Ingresses(appNS).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web"})
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []weights.Status
	done := make(chan struct{})
	go func() {
		defer close(done)
		prev := ""
		for ev := range w.ResultChan() {
			ing, ok := ev.Object.(*networkingv1.Ingress)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			raw := ing.Annotations[annotations.KeyStatus]
			if raw == prev {
				continue
			}
			prev = raw
			if s, err := weights.ParseStatus(raw); err == nil {
				mu.Lock()
				seen = append(seen, s)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	return func() []weights.Status {
		mu.Lock()
		defer mu.Unlock()
		return append([]weights.Status(nil), seen...)
	}
}

// eventually polls cond every 100 ms until it holds or timeout passes; the
// last detail explains a timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out after "+timeout.String()+": "+what, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
