package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	networkingclient "k8s.io/client-go/kubernetes/typed/networking/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The demo's application: three versions of a web shop behind one Ingress.
const (
	namespace   = "demo"
	host        = "shop.demo.local"
	ingressName = "web"
	// badErrorRate is the share of requests web-v3 answers with 500.
	badErrorRate = 0.3
)

// services maps each Service to the testapp version behind it; a response's
// X-Version header names the version.
var services = []struct{ service, version string }{
	{"web-v1", "v1"}, {"web-v2", "v2"}, {"web-v3", "v3"},
}

// versionOf returns the testapp version behind service.
func versionOf(service string) string {
	for _, s := range services {
		if s.service == service {
			return s.version
		}
	}
	return service
}

// shop reads and writes the demo's Kubernetes objects.
type shop struct {
	c *cluster.Cluster
	// gw is set with ROUTER=gateway: the shop is then an HTTPRoute.
	gw gwclient.Interface
}

// deploy publishes web-v1..v3 (web-v3 failing badErrorRate of its requests),
// creates the primary Ingress routing to web-v1, and waits until nginx serves it.
func (s shop) deploy(ctx context.Context) error {
	for _, v := range services {
		if err := s.c.DeployVersion(ctx, namespace, v.service, v.version); err != nil {
			return err
		}
	}
	if err := s.c.SetBehavior(versionOf("web-v3"), badErrorRate, 0); err != nil {
		return err
	}
	if s.gw != nil {
		if err := s.deployRoute(ctx, "web-v1"); err != nil {
			return err
		}
	} else if _, err := s.ingresses().Create(ctx, primaryIngress("web-v1"), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Ingress %s/%s: %w", namespace, ingressName, err)
	}
	return s.waitServing(ctx, versionOf("web-v1"), time.Minute)
}

// primaryIngress is the plain Ingress a user would have before any rollout.
func primaryIngress(service string) *networkingv1.Ingress {
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: ingressName, Namespace: namespace},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: backend}},
			}},
		}}},
	}
}

// waitServing waits until 5 requests in a row answer 200 from version: only
// then has ingress-nginx applied the route.
func (s shop) waitServing(ctx context.Context, version string, timeout time.Duration) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for ok := 0; ok < 5; {
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx did not serve %s from %s within %s", host, version, timeout)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if servedBy(ctx, client, s.c.HTTPURL) == version {
			ok++
			continue
		}
		ok = 0
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// servedBy returns the version that answered one request with 200, or "".
func servedBy(ctx context.Context, client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
	if err != nil {
		return ""
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get(traffic.VersionHeader)
}

// annotate merge-patches the primary's annotations; keys are short names
// (without the ingress-canary.dev/ prefix), as a user writes them.
func (s shop) annotate(ctx context.Context, keys map[string]string) error {
	kv := map[string]string{}
	for k, v := range keys {
		kv[annotations.Prefix+k] = v
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": kv}})
	if err != nil {
		return err
	}
	if s.gw != nil {
		_, err = s.gw.GatewayV1().HTTPRoutes(namespace).Patch(ctx, ingressName, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	_, err = s.ingresses().Patch(ctx, ingressName, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// status reads the controller's status annotation on the primary.
func (s shop) status(ctx context.Context) (weights.Status, error) {
	if s.gw != nil {
		r, err := s.route(ctx)
		if err != nil {
			return weights.Status{}, err
		}
		return weights.ParseStatus(r.Annotations[annotations.KeyStatus])
	}
	ing, err := s.ingresses().Get(ctx, ingressName, metav1.GetOptions{})
	if err != nil {
		return weights.Status{}, err
	}
	return weights.ParseStatus(ing.Annotations[annotations.KeyStatus])
}

// backend names the Service the primary routes to.
func (s shop) backend(ctx context.Context) (string, error) {
	if s.gw != nil {
		r, err := s.route(ctx)
		if err != nil {
			return "", err
		}
		return string(r.Spec.Rules[0].BackendRefs[0].Name), nil
	}
	ing, err := s.ingresses().Get(ctx, ingressName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name, nil
}

// canaryState says whether the controller's canary Ingress exists.
func (s shop) canaryState(ctx context.Context) string {
	if s.gw != nil {
		return s.routeState(ctx)
	}
	name := preflight.CanaryName(ingressName)
	_, err := s.ingresses().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "canary Ingress " + name + " deleted"
	case err != nil:
		return "canary Ingress " + name + ": " + err.Error()
	}
	return "canary Ingress " + name + " still exists"
}

func (s shop) ingresses() networkingclient.IngressInterface {
	return s.c.Client.NetworkingV1().Ingresses(namespace)
}
