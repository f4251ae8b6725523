package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

const ns = "shop"

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// stubAnalyzer returns a fixed verdict and counts calls.
type stubAnalyzer struct {
	mu          sync.Mutex
	verdict     analysis.Verdict
	targets     []analysis.Target
	baseline    analysis.Baseline
	baselineErr error
}

func (s *stubAnalyzer) Look(_ context.Context, t analysis.Target, _ analysis.Thresholds) analysis.Verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targets = append(s.targets, t)
	return s.verdict
}

// measured is a look that measured these counts: 1000 canary requests
// without an error pass a step (shown below max-error-rate 1 %), 30 % errors
// fail one.
func measured(canary, canaryErrors, stable, stableErrors float64) analysis.Verdict {
	return analysis.Verdict{Outcome: analysis.Hold, Measurement: analysis.Measurement{
		Canary: analysis.Side{Requests: canary, Errors: canaryErrors},
		Stable: analysis.Side{Requests: stable, Errors: stableErrors}}}
}

func (s *stubAnalyzer) Baseline(context.Context, analysis.Target, time.Time) (analysis.Baseline, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseline, s.baselineErr
}

// fixture is a controller over a fake clientset, with a clock the test moves.
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	ctrl     *Controller
	recorder *record.FakeRecorder
	analyzer *stubAnalyzer
	now      time.Time
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100),
		analyzer: &stubAnalyzer{verdict: measured(1000, 0, 1000, 0)}, now: t0}
	// As the controller runs by default (--trim-cache): Services and
	// EndpointSlices cached as the checks' compact entries.
	factory := informers.NewSharedInformerFactoryWithOptions(f.client, 0, informers.WithTransform(TrimForCache))
	ctrl, err := New(f.client, factory, f.recorder, f.analyzer, NewMetrics(prometheus.NewRegistry()), zap.NewNop(),
		Options{IngressClass: "nginx", Machine: weights.Config{Settle: 5 * time.Second, ReadinessRecheck: 10 * time.Second, KeepStableFor: 10 * time.Second}, Now: func() time.Time { return f.now }})
	require.NoError(t, err)
	f.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return f
}

// sync runs one reconcile and waits until the informer caches show its writes.
func (f *fixture) sync(name string) time.Duration {
	f.t.Helper()
	f.client.ClearActions()
	requeue, err := f.ctrl.sync(context.Background(), ns+"/"+name)
	require.NoError(f.t, err)
	f.waitForCache(name)
	f.waitForCache(preflight.CanaryName(name))
	f.waitForCache(preflight.KeeperName(name))
	return requeue
}

func (f *fixture) waitForCache(name string) {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		live, err := f.client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
		cached, cerr := f.ctrl.listers.Ingresses.Ingresses(ns).Get(name)
		if apierrors.IsNotFound(err) {
			return apierrors.IsNotFound(cerr), nil
		}
		if err != nil || cerr != nil {
			return false, nil
		}
		trimmed, _ := TrimForCache(live)
		return apiequality.Semantic.DeepEqual(trimmed, cached), nil
	})
	require.NoError(f.t, err, "informer cache did not catch up on %s", name)
}

// writes lists the mutating API calls of the last sync, as "verb resource[/subresource]".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.client.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		s := a.GetVerb() + " " + a.GetResource().Resource
		if p, ok := a.(k8stesting.PatchAction); ok {
			s += " " + p.GetName() + " " + string(p.GetPatchType())
		}
		if d, ok := a.(k8stesting.DeleteAction); ok {
			s += " " + d.GetName()
		}
		if c, ok := a.(k8stesting.CreateAction); ok {
			s += " " + c.GetObject().(metav1.Object).GetName()
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) ingress(name string) *networkingv1.Ingress {
	f.t.Helper()
	ing, err := f.client.NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(f.t, err)
	return ing
}

func (f *fixture) status(name string) weights.Status {
	f.t.Helper()
	s, err := weights.ParseStatus(f.ingress(name).Annotations[annotations.KeyStatus])
	require.NoError(f.t, err)
	return s
}

func (f *fixture) canaryExists(name string) bool {
	_, err := f.client.NetworkingV1().Ingresses(ns).Get(context.Background(), preflight.CanaryName(name), metav1.GetOptions{})
	return err == nil
}

func (f *fixture) annotate(name string, kv map[string]string) {
	f.t.Helper()
	ing := f.ingress(name)
	for k, v := range kv {
		ing.Annotations[k] = v
	}
	_, err := f.client.NetworkingV1().Ingresses(ns).Update(context.Background(), ing, metav1.UpdateOptions{})
	require.NoError(f.t, err)
	f.waitForCache(name)
}

// unannotate removes an annotation from an Ingress.
func (f *fixture) unannotate(name, key string) {
	f.t.Helper()
	ing := f.ingress(name)
	delete(ing.Annotations, key)
	_, err := f.client.NetworkingV1().Ingresses(ns).Update(context.Background(), ing, metav1.UpdateOptions{})
	require.NoError(f.t, err)
	f.waitForCache(name)
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	if len(ports) == 0 {
		ports = []corev1.ServicePort{{Name: "http", Port: 80}}
	}
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{Ports: ports}}
}

func readySlice(svc string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.203.0.2"}}},
	}
}

func backend(svc string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func primary(name string, ann map[string]string) *networkingv1.Ingress {
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: "uid-" + "primary-" + "1", Annotations: ann},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: "shop.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: backend("web-v1", 80)}},
			}}}},
		},
	}
}

// decidedWindows runs the scan and returns the keys it found decided.
func (c *Controller) decidedWindows(ctx context.Context) []string {
	var keys []string
	c.scan(ctx, func(key string, _ time.Time, _ analysis.Verdict, _ analysis.Outcome) { keys = append(keys, key) })
	return keys
}
