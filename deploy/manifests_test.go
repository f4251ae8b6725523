// Package deploy_test checks the kustomize manifests offline: every file parses
// into its typed API object with no unknown field, the RBAC is exactly what the
// controller's code needs, the Deployment is hardened, the pieces select each
// other, and (when the tools are installed) kustomize renders and promtool
// accepts the alerts. The RBAC proof against a real API server is in e2e.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const namespace = "ingress-canary"

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	kind string
	raw  []byte
}

// kustomization is the part of kustomization.yaml these tests read.
type kustomization struct {
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Files []string `json:"files"`
	} `json:"configMapGenerator"`
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	require.NoError(t, err)
	var k kustomization
	require.NoError(t, yaml.Unmarshal(b, &k))
	return k
}

// loadDocs reads every document of every resource the kustomization in dir lists.
func loadDocs(t *testing.T, dir string) []doc {
	t.Helper()
	var docs []doc
	for _, res := range readKustomization(t, dir).Resources {
		f, err := os.Open(filepath.Join(dir, res))
		require.NoError(t, err, "kustomization.yaml lists %s", res)
		r := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, res)
			if len(bytes.TrimSpace(stripComments(raw))) == 0 {
				continue
			}
			var meta struct {
				Kind string `json:"kind"`
			}
			require.NoError(t, yaml.Unmarshal(raw, &meta), res)
			require.NotEmpty(t, meta.Kind, "a document in %s has no kind", res)
			docs = append(docs, doc{file: res, kind: meta.Kind, raw: raw})
		}
		require.NoError(t, f.Close())
	}
	return docs
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(b []byte) []byte { return commentLine.ReplaceAll(b, nil) }

// decode reads the single document of that kind into an API type, strictly: a
// field the type does not have (a typo, a wrong indentation) fails the test.
func decode(t *testing.T, docs []doc, kind string, out any) {
	t.Helper()
	d := single(t, docs, kind)
	require.NoError(t, yaml.UnmarshalStrict(d.raw, out), "%s in %s", kind, d.file)
}

// decodePart reads the fields out declares of a custom resource (ServiceMonitor,
// PrometheusRule), whose Go types this module does not have.
func decodePart(t *testing.T, docs []doc, kind string, out any) {
	t.Helper()
	d := single(t, docs, kind)
	require.NoError(t, yaml.Unmarshal(d.raw, out), "%s in %s", kind, d.file)
}

func single(t *testing.T, docs []doc, kind string) doc {
	t.Helper()
	var found []doc
	for _, d := range docs {
		if d.kind == kind {
			found = append(found, d)
		}
	}
	require.Len(t, found, 1, "documents of kind %s", kind)
	return found[0]
}

func TestKustomizationsListEveryManifest(t *testing.T) {
	for _, dir := range []string{".", "monitoring"} {
		k := readKustomization(t, dir)
		listed := append([]string{"kustomization.yaml"}, k.Resources...)
		for _, g := range k.ConfigMapGenerator {
			for _, f := range g.Files {
				listed = append(listed, f[strings.Index(f, "=")+1:])
			}
		}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if !e.IsDir() && (ext == ".yaml" || ext == ".json") {
				assert.Contains(t, listed, e.Name(), "%s/%s is not in its kustomization.yaml, so it would never be applied", dir, e.Name())
			}
		}
	}
}

func TestEveryManifestParsesStrictly(t *testing.T) {
	typed := map[string]func() any{
		"Namespace":           func() any { return &corev1.Namespace{} },
		"ServiceAccount":      func() any { return &corev1.ServiceAccount{} },
		"Service":             func() any { return &corev1.Service{} },
		"Deployment":          func() any { return &appsv1.Deployment{} },
		"PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
		"ClusterRole":         func() any { return &rbacv1.ClusterRole{} },
		"ClusterRoleBinding":  func() any { return &rbacv1.ClusterRoleBinding{} },
		"Role":                func() any { return &rbacv1.Role{} },
		"RoleBinding":         func() any { return &rbacv1.RoleBinding{} },
	}
	var kinds []string
	for _, d := range loadDocs(t, ".") {
		kinds = append(kinds, d.kind)
		newObj, ok := typed[d.kind]
		require.True(t, ok, "unexpected kind %s in %s", d.kind, d.file)
		assert.NoError(t, yaml.UnmarshalStrict(d.raw, newObj()), "%s in %s", d.kind, d.file)
		if d.kind != "Namespace" && !strings.HasPrefix(d.kind, "Cluster") {
			var u unstructured.Unstructured
			require.NoError(t, yaml.Unmarshal(d.raw, &u.Object))
			assert.Equal(t, namespace, u.GetNamespace(), "%s %s", d.kind, u.GetName())
		}
	}
	sort.Strings(kinds)
	assert.Equal(t, []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "Namespace", "PodDisruptionBudget",
		"Role", "RoleBinding", "Service", "ServiceAccount"}, kinds)
}

// ruleSet flattens RBAC rules to "group/resource[names]:verb" so that order and
// grouping do not matter, only the permissions.
func ruleSet(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					names := ""
					if len(r.ResourceNames) > 0 {
						names = "[" + strings.Join(r.ResourceNames, ",") + "]"
					}
					out = append(out, g+"/"+res+names+":"+v)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestClusterRoleIsExactlyWhatTheControllerNeeds(t *testing.T) {
	var role rbacv1.ClusterRole
	decode(t, loadDocs(t, "."), "ClusterRole", &role)
	want := []string{
		// The core group is "".
		"/events:create", "/events:patch",
		"/services:get", "/services:list", "/services:watch",
		"discovery.k8s.io/endpointslices:get", "discovery.k8s.io/endpointslices:list", "discovery.k8s.io/endpointslices:watch",
		"networking.k8s.io/ingresses:create", "networking.k8s.io/ingresses:delete", "networking.k8s.io/ingresses:get",
		"networking.k8s.io/ingresses:list", "networking.k8s.io/ingresses:patch", "networking.k8s.io/ingresses:watch",
		"gateway.networking.k8s.io/httproutes:get", "gateway.networking.k8s.io/httproutes:list", "gateway.networking.k8s.io/httproutes:patch",
		"gateway.networking.k8s.io/httproutes:update", "gateway.networking.k8s.io/httproutes:watch",
		"gateway.networking.k8s.io/gateways:list", "gateway.networking.k8s.io/gateways:watch",
		"gateway.networking.k8s.io/gatewayclasses:list", "gateway.networking.k8s.io/gatewayclasses:watch",
	}
	sort.Strings(want)
	assert.Equal(t, want, ruleSet(role.Rules))
	for _, r := range role.Rules {
		all := slices.Concat(r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs)
		assert.NotContains(t, all, "*", "no wildcards")
		assert.NotContains(t, r.Resources, "secrets")
		assert.Empty(t, r.NonResourceURLs)
	}
	assert.Nil(t, role.AggregationRule, "an aggregated role would gain whatever others add")
}

func TestLeaderElectionRoleIsNamespacedAndNarrow(t *testing.T) {
	docs := loadDocs(t, ".")
	var role rbacv1.Role
	decode(t, docs, "Role", &role)
	assert.Equal(t, namespace, role.Namespace)
	// client-go's resourcelock.LeaseLock calls Get, Create and Update.
	assert.Equal(t, []string{
		"coordination.k8s.io/leases:create",
		"coordination.k8s.io/leases[ingress-canary]:get",
		"coordination.k8s.io/leases[ingress-canary]:update",
	}, ruleSet(role.Rules))

	var binding rbacv1.RoleBinding
	decode(t, docs, "RoleBinding", &binding)
	assert.Equal(t, namespace, binding.Namespace)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}, binding.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ingress-canary", Namespace: namespace}}, binding.Subjects)

	var cluster rbacv1.ClusterRoleBinding
	decode(t, docs, "ClusterRoleBinding", &cluster)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ingress-canary"}, cluster.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ingress-canary", Namespace: namespace}}, cluster.Subjects)
}

func controllerContainer(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	return d.Spec.Template.Spec.Containers[0]
}

func TestDeploymentIsHardened(t *testing.T) {
	var d appsv1.Deployment
	decode(t, loadDocs(t, "."), "Deployment", &d)
	pod := d.Spec.Template.Spec
	c := controllerContainer(t, &d)

	require.NotNil(t, d.Spec.Replicas)
	assert.EqualValues(t, 2, *d.Spec.Replicas)
	assert.Equal(t, "ingress-canary", pod.ServiceAccountName)
	assert.Equal(t, "ghcr.io/ingress-canary/ingress-canary:latest", c.Image)

	require.NotNil(t, pod.SecurityContext)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.True(t, *sc.RunAsNonRoot)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Nil(t, sc.Privileged)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)

	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		assert.Contains(t, c.Resources.Requests, res)
		assert.Contains(t, c.Resources.Limits, res)
	}

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe)
		require.NotNil(t, probe.HTTPGet)
		assert.Equal(t, path, probe.HTTPGet.Path)
		assert.EqualValues(t, 8081, ports[probe.HTTPGet.Port.String()], "%s probes the health port", path)
	}
	assert.EqualValues(t, 8080, ports["metrics"])

	assert.Contains(t, c.Env, corev1.EnvVar{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}})
	for _, arg := range []string{"--leader-elect=true", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"} {
		assert.Contains(t, c.Args, arg)
	}
	assert.True(t, slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--prometheus-url=http") }))
}

// TestDeploymentFlagsExist catches a renamed controller flag: every --flag the
// Deployment passes must be defined in cmd/ingress-canary/flags.go.
func TestDeploymentFlagsExist(t *testing.T) {
	var d appsv1.Deployment
	decode(t, loadDocs(t, "."), "Deployment", &d)
	src, err := os.ReadFile(filepath.Join("..", "cmd", "ingress-canary", "flags.go"))
	require.NoError(t, err)
	for _, arg := range controllerContainer(t, &d).Args {
		name := strings.TrimPrefix(strings.SplitN(arg, "=", 2)[0], "--")
		assert.Contains(t, string(src), `"`+name+`"`, "flag --%s", name)
	}
}

func TestServiceAndBudgetSelectTheControllerPods(t *testing.T) {
	docs := loadDocs(t, ".")
	var d appsv1.Deployment
	var svc corev1.Service
	var pdb policyv1.PodDisruptionBudget
	decode(t, docs, "Deployment", &d)
	decode(t, docs, "Service", &svc)
	decode(t, docs, "PodDisruptionBudget", &pdb)
	podLabels := d.Spec.Template.Labels
	assert.Subset(t, podLabels, svc.Spec.Selector)
	assert.Subset(t, podLabels, d.Spec.Selector.MatchLabels)
	assert.Subset(t, podLabels, pdb.Spec.Selector.MatchLabels)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, "metrics", svc.Spec.Ports[0].Name)
	assert.EqualValues(t, 8080, svc.Spec.Ports[0].Port)
	assert.Equal(t, "metrics", svc.Spec.Ports[0].TargetPort.String())
}

func TestServiceMonitorScrapesTheMetricsService(t *testing.T) {
	var svc corev1.Service
	decode(t, loadDocs(t, "."), "Service", &svc)
	var sm struct {
		Spec struct {
			Selector          struct{ MatchLabels map[string]string } `json:"selector"`
			NamespaceSelector struct{ MatchNames []string }           `json:"namespaceSelector"`
			Endpoints         []struct {
				Port        string `json:"port"`
				HonorLabels bool   `json:"honorLabels"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	decodePart(t, loadDocs(t, "monitoring"), "ServiceMonitor", &sm)
	assert.Subset(t, svc.Labels, sm.Spec.Selector.MatchLabels)
	assert.Equal(t, []string{namespace}, sm.Spec.NamespaceSelector.MatchNames)
	require.Len(t, sm.Spec.Endpoints, 1)
	assert.Equal(t, svc.Spec.Ports[0].Name, sm.Spec.Endpoints[0].Port)
	// The controller's `namespace` label is the Ingress's, not the Pod's.
	assert.True(t, sm.Spec.Endpoints[0].HonorLabels)
}

// exported are the metric families the controller serves (controller/metrics.go,
// workqueue_metrics.go, leader_metrics.go) plus Prometheus's own `up`.
var exported = regexp.MustCompile(`^(ingress_canary_(weight|phase|analysis_total|rollouts_total|reconcile_duration_seconds(_bucket|_sum|_count)?)|workqueue_(depth|adds_total|retries_total|queue_duration_seconds_bucket|work_duration_seconds_bucket)|leader_election_master_status|leader_election_slowpath_total|up)$`)

var metricName = regexp.MustCompile(`\b(ingress_canary_\w+|workqueue_\w+|leader_election_\w+|up)\b`)

type dashboardPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("monitoring", "dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		UID    string           `json:"uid"`
		Panels []dashboardPanel `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	assert.Equal(t, "ingress-canary", dash.UID)
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			exprs["panel "+p.Title] += tg.Expr + "\n"
		}
	}
	for _, r := range alertRules(t) {
		exprs["alert "+r.Alert] = r.Expr
	}
	for where, expr := range exprs {
		names := metricName.FindAllString(expr, -1)
		assert.NotEmpty(t, names, where)
		for _, n := range names {
			assert.Regexp(t, exported, n, "%s queries %s", where, n)
		}
	}
	for _, family := range []string{"ingress_canary_weight", "ingress_canary_phase", "ingress_canary_analysis_total"} {
		assert.True(t, slices.ContainsFunc(dash.Panels, func(p dashboardPanel) bool {
			return strings.Contains(p.Targets[0].Expr, family)
		}), "a panel shows %s", family)
	}
}

type alertRule struct {
	Alert string `json:"alert"`
	Expr  string `json:"expr"`
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []alertRule `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	decodePart(t, loadDocs(t, "monitoring"), "PrometheusRule", &rule)
	var out []alertRule
	for _, g := range rule.Spec.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestAlertsWithPromtool checks the PromQL and runs the alert unit tests in
// testdata/alerts_test.yaml, when promtool (Prometheus's CLI) is installed.
func TestAlertsWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	var rule struct {
		Spec map[string]any `json:"spec"`
	}
	decodePart(t, loadDocs(t, "monitoring"), "PrometheusRule", &rule)
	rules, err := yaml.Marshal(rule.Spec)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o600))
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts_test.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o600))
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

var topLevelKind = regexp.MustCompile(`(?m)^kind: `)

// TestKustomizeRenders runs `kubectl kustomize` on both kustomizations when
// kubectl is installed, the same rendering `kubectl apply -k` does.
func TestKustomizeRenders(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	for dir, want := range map[string]int{".": 9, "monitoring": 3} {
		out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
		require.NoError(t, err, "kubectl kustomize %s:\n%s", dir, out)
		assert.Len(t, topLevelKind.FindAll(out, -1), want, "objects rendered from %s", dir)
	}
}

// TestLocalNodeOverlayChangesOnlyWhatTheNodeNeeds renders deploy/ and the
// in-cluster e2e test's overlay (e2e/incluster/overlay) and compares them:
// apart from the image tag, --prometheus-url and the apiserver's address
// (KUBERNETES_SERVICE_HOST/PORT: that node has no kube-proxy), every object
// is the same, so the e2e test proves these manifests and not others.
func TestLocalNodeOverlayChangesOnlyWhatTheNodeNeeds(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	render := func(dir string) map[string]map[string]any {
		out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
		require.NoError(t, err, "kubectl kustomize %s:\n%s", dir, out)
		objs := map[string]map[string]any{}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
		for {
			var u unstructured.Unstructured
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err)
			}
			objs[u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = u.Object
		}
		return objs
	}
	base, overlay := render("."), render("../e2e/incluster/overlay")
	require.Equal(t, len(base), len(overlay), "the overlay renders the same objects")

	key := "Deployment/" + namespace + "/ingress-canary"
	var d appsv1.Deployment
	b, err := json.Marshal(overlay[key])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &d))
	c := &d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, "ghcr.io/ingress-canary/ingress-canary:dev", c.Image)
	assert.Contains(t, c.Args, "--prometheus-url=http://10.88.0.1:9090")
	// Undo the three changes; what is left must equal the base.
	c.Image = "ghcr.io/ingress-canary/ingress-canary:latest"
	c.Args = slices.Replace(c.Args, slices.Index(c.Args, "--prometheus-url=http://10.88.0.1:9090"),
		slices.Index(c.Args, "--prometheus-url=http://10.88.0.1:9090")+1, "--prometheus-url=http://prometheus.monitoring.svc:9090")
	c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "KUBERNETES_SERVICE_HOST" || e.Name == "KUBERNETES_SERVICE_PORT"
	})
	var want appsv1.Deployment
	b, err = json.Marshal(base[key])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &want))
	assert.Equal(t, want, d, "the overlay's Deployment, with its three changes undone")
	for k, obj := range base {
		if k != key {
			assert.Equal(t, obj, overlay[k], "%s is not changed by the overlay", k)
		}
	}
}
