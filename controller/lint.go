package controller

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// world is what the pre-flight lint resolved about one primary Ingress.
type world struct {
	stable string
	// canaryPort is the port the canary Ingress routes to (canary-port, or the stable backend's).
	canaryPort  networkingv1.ServiceBackendPort
	canaryReady bool
	// canary is the existing canary Ingress, controlled by the primary, or nil.
	canary *networkingv1.Ingress
}

// listers are the cached reads the lint needs.
type listers struct {
	ingresses      networkinglisters.IngressLister
	services       corelisters.ServiceLister
	endpointSlices discoverylisters.EndpointSliceLister
}

// lint runs the pre-flight checks. Each failure is an *annotations.Error naming
// the key (or field) and the value, so it can become the Event verbatim.
func lint(l listers, ingressClass string, primary *networkingv1.Ingress, spec *annotations.Spec) (world, error) {
	var w world
	if class := classOf(primary); class != ingressClass {
		return w, &annotations.Error{Key: "spec.ingressClassName", Value: class,
			Expected: fmt.Sprintf("ingress class %q: ingress-canary drives ingress-nginx only", ingressClass)}
	}
	stable, err := resolveStable(primary, spec)
	if err != nil {
		return w, err
	}
	w.stable = stable
	svc, err := l.services.Services(primary.Namespace).Get(spec.CanaryService)
	if apierrors.IsNotFound(err) {
		return w, &annotations.Error{Key: annotations.KeyCanaryService, Value: spec.CanaryService,
			Expected: "an existing Service in namespace " + primary.Namespace}
	}
	if err != nil {
		return w, err
	}
	if stable != spec.CanaryService {
		if w.canaryPort, err = resolveCanaryPort(primary, spec, stable, svc); err != nil {
			return w, err
		}
	}
	if w.canary, err = ownCanary(l, primary); err != nil {
		return w, err
	}
	if err := conflicts(l, primary, spec.CanaryService); err != nil {
		return w, err
	}
	w.canaryReady, err = hasReadyEndpoints(l, primary.Namespace, spec.CanaryService)
	return w, err
}

func classOf(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations[legacyClassAnnotation]
}

// resolveStable finds the Service being replaced. After a switch the primary routes
// only to the canary Service, which is then the stable one.
func resolveStable(primary *networkingv1.Ingress, spec *annotations.Spec) (string, error) {
	used := map[string]bool{}
	if db := primary.Spec.DefaultBackend; db != nil && db.Service != nil {
		used[db.Service.Name] = true
	}
	for _, r := range primary.Spec.Rules {
		if r.HTTP != nil {
			for _, p := range r.HTTP.Paths {
				if p.Backend.Service != nil {
					used[p.Backend.Service.Name] = true
				}
			}
		}
	}
	if spec.StableService != "" && used[spec.StableService] {
		return spec.StableService, nil
	}
	var others []string
	for name := range used {
		if name != spec.CanaryService {
			others = append(others, name)
		}
	}
	sort.Strings(others)
	switch {
	case spec.StableService != "" && len(others) > 0:
		return "", &annotations.Error{Key: annotations.KeyStableService, Value: spec.StableService,
			Expected: "a Service the Ingress routes to: " + strings.Join(others, ", ")}
	case len(others) == 1:
		return others[0], nil
	case len(others) == 0 && used[spec.CanaryService]:
		return spec.CanaryService, nil
	case len(others) == 0:
		return "", &annotations.Error{Key: "spec.rules", Value: "", Expected: "at least one path routed to a Service"}
	}
	return "", &annotations.Error{Key: annotations.KeyStableService, Value: "",
		Expected: "the Service to replace, because the Ingress routes to several: " + strings.Join(others, ", ")}
}

// resolveCanaryPort checks that every replaced path's port exists on the canary
// Service, as canary-port or as the same port the stable backend uses.
func resolveCanaryPort(primary *networkingv1.Ingress, spec *annotations.Spec, stable string, svc *corev1.Service) (networkingv1.ServiceBackendPort, error) {
	want := spec.CanaryPort
	explicit := want.Name != "" || want.Number != 0
	for _, b := range stableBackends(primary, stable) {
		p := canaryPort(want, b)
		if serviceHasPort(svc, p) {
			if !explicit {
				want = p
			}
			continue
		}
		if explicit {
			return want, &annotations.Error{Key: annotations.KeyCanaryPort, Value: portString(p),
				Expected: "a port of Service " + svc.Name + ": " + servicePorts(svc)}
		}
		return want, &annotations.Error{Key: annotations.KeyCanaryPort, Value: "",
			Expected: fmt.Sprintf("set, because Service %s has no port %s like the stable backend (it has %s)", svc.Name, portString(p), servicePorts(svc))}
	}
	return want, nil
}

func serviceHasPort(svc *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	for _, sp := range svc.Spec.Ports {
		if (p.Name != "" && sp.Name == p.Name) || (p.Name == "" && sp.Port == p.Number) {
			return true
		}
	}
	return false
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}

func servicePorts(svc *corev1.Service) string {
	var out []string
	for _, sp := range svc.Spec.Ports {
		s := fmt.Sprint(sp.Port)
		if sp.Name != "" {
			s = sp.Name + "/" + s
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "no ports"
	}
	return strings.Join(out, ", ")
}

// ownCanary returns the existing canary Ingress if the primary controls it. One
// with the same name that it does not control is a conflict: never overwrite it.
func ownCanary(l listers, primary *networkingv1.Ingress) (*networkingv1.Ingress, error) {
	ing, err := l.ingresses.Ingresses(primary.Namespace).Get(CanaryName(primary.Name))
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !metav1.IsControlledBy(ing, primary) {
		return nil, &annotations.Error{Key: "metadata.name", Value: ing.Name,
			Expected: "no Ingress of that name, or one created by ingress-canary for " + primary.Name + "; it exists and is not ours, so it is left alone"}
	}
	return ing, nil
}

// conflicts finds what would make ingress-nginx ignore or mis-merge our canary:
// another canary Ingress on one of our host/paths (nginx uses only the first), or
// the canary Service used as a primary backend elsewhere (nginx merges canaries per
// upstream, so that Ingress would be split too).
func conflicts(l listers, primary *networkingv1.Ingress, canaryService string) error {
	all, err := l.ingresses.Ingresses(primary.Namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	ours := hostPaths(primary)
	var errs []error
	for _, other := range all {
		if other.UID == primary.UID || metav1.IsControlledBy(other, primary) {
			continue
		}
		if other.Annotations[annotations.NginxCanary] == "true" {
			for hp := range hostPaths(other) {
				if ours[hp] {
					errs = append(errs, &annotations.Error{Key: "Ingress " + other.Name, Value: hp,
						Expected: "no other canary Ingress on " + hp + ": ingress-nginx would use only one of them"})
					break
				}
			}
			continue
		}
		if len(stableBackends(other, canaryService)) > 0 {
			errs = append(errs, &annotations.Error{Key: annotations.KeyCanaryService, Value: canaryService,
				Expected: "a Service no other Ingress routes to, but Ingress " + other.Name + " does; ingress-nginx would split its traffic too"})
		}
	}
	return errors.Join(errs...)
}

func hostPaths(ing *networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			for _, p := range r.HTTP.Paths {
				out[r.Host+p.Path] = true
			}
		}
	}
	return out
}

// hasReadyEndpoints reports whether any EndpointSlice of the Service has a ready
// endpoint.
func hasReadyEndpoints(l listers, namespace, service string) (bool, error) {
	slices, err := l.endpointSlices.EndpointSlices(namespace).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: service}))
	if err != nil {
		return false, err
	}
	for _, s := range slices {
		for _, e := range s.Endpoints {
			if isReady(e) {
				return true, nil
			}
		}
	}
	return false, nil
}
