package main

import (
	"bytes"
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)

// harness runs the plugin against a fake clientset, capturing its output.
type harness struct {
	app            *app
	client         *fake.Clientset
	stdout, stderr *bytes.Buffer
	// connected records the global flags the last command connected with.
	connected globalOptions
	// onSleep, when set, runs at each watch pause (to move the world on).
	onSleep func(n int)
	sleeps  int
}

func newHarness(objects ...runtime.Object) *harness {
	h := &harness{client: fake.NewClientset(objects...), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	h.app = &app{
		stdout: h.stdout, stderr: h.stderr, now: func() time.Time { return testNow },
		connect: func(g globalOptions) (kubernetes.Interface, string, error) {
			h.connected = g
			ns := g.namespace()
			if ns == "" {
				ns = "default"
			}
			return h.client, ns, nil
		},
		sleep: func(context.Context, time.Duration) error {
			h.sleeps++
			if h.onSleep != nil {
				h.onSleep(h.sleeps)
			}
			return nil
		},
	}
	return h
}

func (h *harness) run(args ...string) int {
	return h.app.run(context.Background(), args)
}

// ingress returns the current copy of an Ingress from the fake API.
func (h *harness) ingress(namespace, name string) *networkingv1.Ingress {
	ing, err := h.client.NetworkingV1().Ingresses(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		panic(err)
	}
	return ing
}

// patches lists the patch bodies the plugin sent.
func (h *harness) patches() []string {
	var out []string
	for _, a := range h.client.Actions() {
		if p, ok := a.(interface {
			GetPatch() []byte
			GetPatchType() types.PatchType
		}); ok && a.GetVerb() == "patch" {
			out = append(out, string(p.GetPatchType())+" "+string(p.GetPatch()))
		}
	}
	return out
}

var nginx = "nginx"

// primary is an Ingress of class nginx routing web.example.com/ to stable:80.
func primary(namespace, name, stable string, ann map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(name + "-uid"), Annotations: ann},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &nginx,
			Rules: []networkingv1.IngressRule{{
				Host: "web.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: stable, Port: networkingv1.ServiceBackendPort{Number: 80}},
					}}},
				}},
			}},
		},
	}
}

func service(namespace, name string, port int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: port}}},
	}
}

func readySlice(namespace, svc string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: svc + "-abc", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}},
	}
}

func event(namespace, ingress, reason, message string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: namespace, Name: ingress + "." + reason + at.Format("150405")},
		InvolvedObject: corev1.ObjectReference{Kind: "Ingress", Namespace: namespace, Name: ingress, UID: types.UID(ingress + "-uid")},
		Type:           corev1.EventTypeNormal, Reason: reason, Message: message,
		LastTimestamp: metav1.NewTime(at), Count: 1, Source: corev1.EventSource{Component: eventComponent},
	}
}

// progressing is a status at step 2 of 4, weight 10, analysed 30 s ago.
const progressing = `{"phase":"Progressing","revision":"web-v2","step":2,"steps":4,"weight":"10",` +
	`"nextCheck":"2026-11-22T05:00:42Z",` +
	`"lastAnalysis":{"outcome":"Pass","requests":5120,"errorRate":0.002,"latencySeconds":0.081,` +
	`"stable":{"requests":48210,"errors":72,"errorRate":0.0015,"latencySeconds":0.075},"at":"2026-11-22T04:59:30Z"},` +
	`"message":"step 2/4: weight 10 %","updated":"2026-11-22T04:57:00Z"}`

func rolloutAnnotations(canary, status string) map[string]string {
	ann := map[string]string{annotations.KeyCanaryService: canary}
	if status != "" {
		ann[annotations.KeyStatus] = status
	}
	return ann
}
