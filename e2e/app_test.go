package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// app is one test's world: a namespace, a host, testapp versions "<name>-v1..",
// Services web-v1.. for them, and a primary Ingress "web" routing to web-v1.
type app struct {
	t    *testing.T
	name string
	ns   string
	host string
	// primaryName is the primary Ingress's name: "web" unless a sibling.
	primaryName string
	// describe is what a failed wait reports; nil: the primary's status.
	describe func() string
	// readStatus reads the rollout's status; nil: the primary Ingress's.
	readStatus func() weights.Status
}

// newApp deploys versions 1..n and the primary Ingress, and waits until nginx
// serves the host, so that traffic assertions start from a working route.
func newApp(t *testing.T, name string, versions int) *app {
	t.Helper()
	a := &app{t: t, name: name, ns: "e2e-" + name, host: name + ".e2e.local", primaryName: "web"}
	ctx := context.Background()
	for i := 1; i <= versions; i++ {
		require.NoError(t, suite.cluster.DeployVersion(ctx, a.ns, a.service(i), a.version(i)))
	}
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: a.ns, Annotations: map[string]string{"team.example/owner": a.name}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: a.host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: a.service(1), Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}},
		}}},
	}
	_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Create(ctx, ing, metav1.CreateOptions{})
	require.NoError(t, err)
	a.waitServing(a.version(1))
	return a
}

func (a *app) service(i int) string { return fmt.Sprintf("web-v%d", i) }
func (a *app) version(i int) string { return fmt.Sprintf("%s-v%d", a.name, i) }

// waitServing waits until 5 plain requests in a row answer 200 from version.
func (a *app) waitServing(version string) { a.waitRouted(version, nil) }

// waitRouted waits until 5 requests in a row, shaped by mod (a header, a cookie),
// answer 200 from version: proof that nginx applied the route.
func (a *app) waitRouted(version string, mod func(*http.Request)) {
	a.t.Helper()
	a.waitRoutedAt(a.host, "/", version, mod)
}

// waitRoutedAt is waitRouted for another host or path.
func (a *app) waitRoutedAt(host, path, version string, mod func(*http.Request)) {
	a.t.Helper()
	ok := 0
	a.eventually(60*time.Second, "nginx serves "+host+path+" from "+version, func() bool {
		req, _ := http.NewRequest(http.MethodGet, suite.cluster.HTTPURL+path, nil)
		req.Host = host
		if mod != nil {
			mod(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ok = 0
			return false
		}
		resp.Body.Close()
		if resp.StatusCode == 200 && resp.Header.Get("X-Version") == version {
			ok++
		} else {
			ok = 0
		}
		return ok >= 5
	})
}

// annotate merge-patches annotations on the primary (nil value removes a key).
func (a *app) annotate(kv map[string]any) {
	a.t.Helper()
	_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Patch(context.Background(), a.primaryName, types.MergePatchType, annotationPatch(a.t, kv), metav1.PatchOptions{})
	require.NoError(a.t, err)
}

// annotationPatch is a merge patch of annotations (nil value removes a key).
func annotationPatch(t *testing.T, kv map[string]any) []byte {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": kv}})
	require.NoError(t, err)
	return patch
}

// suiteMaxErrorRate is the max-error-rate of the suite's rollouts unless a
// test sets its own. A step passes once the evidence shows the canary within
// it (or no worse than stable), and a spotless canary needs about 40 requests
// to be shown below 10 %, but about 420 to be shown below the default 1 %:
// the suite's tens of requests per second for seconds can show the first.
const suiteMaxErrorRate = "10%"

// start opts the primary in with the given keys (short names, without the prefix).
func (a *app) start(keys map[string]string) { a.annotate(prefixed(keys)) }

// prefixed puts the ingress-canary.dev/ prefix before each short key, and
// adds max-error-rate suiteMaxErrorRate to a rollout's keys unless they set it.
func prefixed(keys map[string]string) map[string]any {
	kv := map[string]any{}
	if _, set := keys["max-error-rate"]; !set && keys["canary-service"] != "" {
		kv[annotations.KeyMaxErrorRate] = suiteMaxErrorRate
	}
	for k, v := range keys {
		kv[annotations.Prefix+k] = v
	}
	return kv
}

func (a *app) primary() *networkingv1.Ingress {
	a.t.Helper()
	ing, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Get(context.Background(), a.primaryName, metav1.GetOptions{})
	require.NoError(a.t, err)
	return ing
}

func (a *app) status() weights.Status {
	a.t.Helper()
	if a.readStatus != nil {
		return a.readStatus()
	}
	s, err := weights.ParseStatus(a.primary().Annotations[annotations.KeyStatus])
	require.NoError(a.t, err)
	return s
}

func (a *app) canary() (*networkingv1.Ingress, bool) {
	ing, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Get(context.Background(), preflight.CanaryName(a.primaryName), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	require.NoError(a.t, err)
	return ing, true
}

// waitStatus polls the status until cond holds, and returns it.
func (a *app) waitStatus(timeout time.Duration, what string, cond func(weights.Status) bool) weights.Status {
	a.t.Helper()
	var st weights.Status
	a.eventually(timeout, what, func() bool { st = a.status(); return cond(st) })
	return st
}

func (a *app) waitPhase(timeout time.Duration, phase weights.Phase) weights.Status {
	a.t.Helper()
	return a.waitStatus(timeout, "phase "+string(phase), func(s weights.Status) bool { return s.Phase == phase })
}

func (a *app) eventually(timeout time.Duration, what string, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			last := func() string { return a.primary().Annotations[annotations.KeyStatus] }
			if a.describe != nil {
				last = a.describe
			}
			a.t.Fatalf("%s: not within %s; last status %s\ncontroller log: %s", what, timeout, last(), suite.controller.logPath)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// events lists the Events on the primary as "Type Reason: message".
func (a *app) events() []string {
	a.t.Helper()
	list, err := suite.cluster.Client.CoreV1().Events(a.ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + a.primaryName})
	require.NoError(a.t, err)
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Type+" "+e.Reason+": "+e.Message)
	}
	return out
}

// waitEvent waits for an Event whose "Type Reason: message" contains all parts.
func (a *app) waitEvent(timeout time.Duration, parts ...string) string {
	a.t.Helper()
	var found string
	a.eventually(timeout, "event "+strings.Join(parts, " "), func() bool {
		for _, e := range a.events() {
			if containsAll(e, parts) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// traffic starts a bounded, paced generator against the app's host in the
// background; stop it with the returned function, which returns the final counts.
func (a *app) traffic(rps float64, header http.Header, cookies ...*http.Cookie) (*traffic.Generator, func() traffic.Counts) {
	a.t.Helper()
	return a.trafficTo(a.host, "/", rps, header, cookies...)
}

// trafficTo is traffic to another host or path of the Ingress.
func (a *app) trafficTo(host, path string, rps float64, header http.Header, cookies ...*http.Cookie) (*traffic.Generator, func() traffic.Counts) {
	a.t.Helper()
	g, err := traffic.New(traffic.Config{
		URL: suite.cluster.HTTPURL + path, Host: host, Header: header, Cookies: cookies,
		RPS: rps, Concurrency: 8, MaxRequests: int(rps * 600), MaxDuration: 10 * time.Minute, Timeout: 5 * time.Second,
	})
	require.NoError(a.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan traffic.Counts, 1)
	go func() { done <- g.Run(ctx) }()
	stopped := false
	var final traffic.Counts
	stop := func() traffic.Counts {
		if !stopped {
			stopped = true
			cancel()
			final = <-done
		}
		return final
	}
	a.t.Cleanup(func() { stop() })
	return g, stop
}
