package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The deploy/ manifests, proven on the real apiserver (RBAC on): they apply, the
// controller completes a rollout with nothing but the ServiceAccount's token (so
// the permissions suffice), and that token is refused outside the role (so they
// are minimal). Sequential: it replaces the suite's controller for its duration.
func TestDeployManifestsLeastPrivilege(t *testing.T) {
	kubeconfig := applyDeploy(t)
	sa := clientFor(t, kubeconfig)
	ctx := context.Background()

	forbidden := map[string]error{}
	_, forbidden["get secrets"] = sa.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	_, forbidden["patch deployments"] = sa.AppsV1().Deployments("ingress-canary").Patch(ctx, "ingress-canary", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	_, forbidden["list pods"] = sa.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	_, forbidden["leases outside its namespace"] = sa.CoordinationV1().Leases("kube-system").List(ctx, metav1.ListOptions{})
	forbidden["delete services"] = sa.CoreV1().Services("default").Delete(ctx, "kubernetes", metav1.DeleteOptions{})
	_, forbidden["update ingresses (only patch is granted)"] = sa.NetworkingV1().Ingresses("default").Update(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}, metav1.UpdateOptions{})
	for what, err := range forbidden {
		assert.True(t, apierrors.IsForbidden(err), "%s must be refused (403), got %v", what, err)
	}
	_, err := sa.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	assert.NoError(t, err, "listing Ingresses is inside the role")

	restricted := runAsServiceAccount(t, kubeconfig)

	a := newApp(t, "rbac", 2)
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "30", "interval": "5s", "min-requests": "20"})
	a.waitPhase(90*time.Second, weights.PhaseSucceeded)
	assert.Equal(t, "web-v2", a.primary().Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)
	a.waitEvent(10*time.Second, "Normal", "Promoted")
	lease, err := suite.cluster.Client.CoordinationV1().Leases("ingress-canary").Get(ctx, "ingress-canary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, lease.Spec.HolderIdentity)
	assertNeverForbidden(t, restricted)
}

// applyDeploy applies deploy/ (a server dry run first) and returns a
// kubeconfig with the controller ServiceAccount's token.
func applyDeploy(t *testing.T) string {
	t.Helper()
	root, err := cluster.ModuleRoot()
	require.NoError(t, err)
	deploy := filepath.Join(root, "deploy")
	// A server dry run cannot create namespaced objects in a namespace that does
	// not exist yet, so the Namespace goes first.
	kubectl(t, "apply", "-f", filepath.Join(deploy, "namespace.yaml"))
	kubectl(t, "apply", "-k", deploy, "--dry-run=server")
	kubectl(t, "apply", "-k", deploy)
	return serviceAccountKubeconfig(t, "ingress-canary", "ingress-canary")
}

// runAsServiceAccount replaces the suite's controller, for the rest of the
// test, by one that has nothing but the ServiceAccount's token.
func runAsServiceAccount(t *testing.T, kubeconfig string) *controllerProc {
	t.Helper()
	require.NoError(t, suite.controller.Stop())
	t.Cleanup(func() { require.NoError(t, suite.controller.Start()) })
	restricted := newControllerProcWith(filepath.Join(suite.bin, "ingress-canary"), suite.cluster, "ingress-canary-sa",
		kubeconfig, "ingress-canary", "127.0.0.1:18092", "127.0.0.1:18093")
	require.NoError(t, restricted.Start())
	t.Cleanup(func() { _ = restricted.Stop() })
	return restricted
}

// assertNeverForbidden checks the restricted controller's log: it never hit
// a permission it lacks.
func assertNeverForbidden(t *testing.T, p *controllerProc) {
	t.Helper()
	log, err := os.ReadFile(p.logPath)
	require.NoError(t, err)
	assert.NotContains(t, strings.ToLower(string(log)), "forbidden", "the controller never hit a permission it lacks")
}

// kubectl runs kubectl against the cluster as admin and fails the test on error.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig=" + suite.cluster.Kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "kubectl %s:\n%s", strings.Join(args, " "), out.String())
	return out.String()
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates with a real
// token of the ServiceAccount (TokenRequest API), instead of the admin token.
func serviceAccountKubeconfig(t *testing.T, namespace, name string) string {
	t.Helper()
	exp := int64(3600)
	tok, err := suite.cluster.Client.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg, err := clientcmd.LoadFromFile(suite.cluster.Kubeconfig)
	require.NoError(t, err)
	for _, auth := range cfg.AuthInfos {
		auth.Token = tok.Status.Token
	}
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(rc)
	require.NoError(t, err)
	return cs
}
