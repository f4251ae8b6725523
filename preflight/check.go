package preflight

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
	networkinglisters "k8s.io/client-go/listers/networking/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
)

// World is what the pre-flight checks resolved about one primary Ingress.
type World struct {
	// Stable is the Service being replaced.
	Stable string
	// CanaryPort is the port the canary Ingress routes to (canary-port, or the stable backend's).
	CanaryPort  networkingv1.ServiceBackendPort
	CanaryReady bool
	// Canary is the existing canary Ingress, controlled by the primary, or nil.
	Canary *networkingv1.Ingress
	// SharedStable names the other Ingresses of the class that route to the
	// stable Service and port: ingress-nginx (and Traefik) apply a canary per
	// upstream, so their users would be served the canary too.
	SharedStable []string
	// Rivals are the other rollouts' canary Ingresses (older than ours) that
	// route to our canary Service: the data plane keeps one weight for it.
	Rivals []*networkingv1.Ingress
}

// Listers are the cached reads the checks need: the controller's informers, or
// a one-time snapshot (Lint).
type Listers struct {
	Ingresses      networkinglisters.IngressLister
	Services       Services
	EndpointSlices EndpointSlices
}

// Check runs the pre-flight checks. Each failure names what it is about, so it
// can become the Event verbatim: an *annotations.Error for an ingress-canary.dev
// key, a *Problem for any other field. pinned is the stable Service of the
// rollout in progress ("" when none): a running rollout keeps its target
// whatever the annotations now say.
func Check(l Listers, ingressClass string, primary *networkingv1.Ingress, spec *annotations.Spec, pinned string) (World, error) {
	var w World
	if class := classOf(primary); class != ingressClass {
		return w, &Problem{Field: "spec.ingressClassName", Value: class,
			Expected: fmt.Sprintf("ingress class %q: ingress-canary drives ingress-nginx only", ingressClass)}
	}
	stable, err := resolveStable(primary, spec, pinned)
	if err != nil {
		return w, err
	}
	w.Stable = stable
	svc, err := l.Services.Get(primary.Namespace, spec.CanaryService)
	if apierrors.IsNotFound(err) {
		return w, &annotations.Error{Key: annotations.KeyCanaryService, Value: spec.CanaryService,
			Expected: "an existing Service in namespace " + primary.Namespace}
	}
	if err != nil {
		return w, err
	}
	if stable != spec.CanaryService {
		if w.CanaryPort, err = resolveCanaryPort(primary, spec, stable, svc); err != nil {
			return w, err
		}
	}
	if w.Canary, err = OwnCanary(l, primary); err != nil {
		return w, err
	}
	if w.Rivals, err = conflicts(l, primary, spec.CanaryService, w.Canary); err != nil {
		return w, err
	}
	if stable != spec.CanaryService {
		if w.SharedStable, err = sharedStable(l, ingressClass, primary, stable); err != nil {
			return w, err
		}
	}
	w.CanaryReady, err = l.EndpointSlices.Ready(primary.Namespace, spec.CanaryService)
	return w, err
}

func classOf(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations[LegacyClassAnnotation]
}

// resolveStable finds the Service being replaced: stable-service, else the one
// Service besides the canary that the Ingress routes to.
//
// Once the canary Service has taken the stable one's place on every path (our
// promotion switched the primary, or the user changed the source), the canary
// is the stable Service: that is what "promoted" means, also for an Ingress
// that routes to other Services too.
//
// A rollout in progress keeps the stable Service it started with (pinned): a
// removed stable-service, or another Service that now looks like the only
// candidate, never retargets it. Only an explicit new stable-service does, and
// the state machine treats that as a new revision.
func resolveStable(primary *networkingv1.Ingress, spec *annotations.Spec, pinned string) (string, error) {
	used := backends.Services(primary)
	switched := func(stable string) bool { return stable != "" && !used[stable] && used[spec.CanaryService] }
	var others []string
	for name := range used {
		if name != spec.CanaryService {
			others = append(others, name)
		}
	}
	sort.Strings(others)
	want := spec.StableService
	if want == "" {
		want = pinned
	}
	switch {
	case want != "" && used[want]:
		return want, nil
	case switched(want) && (pinned == "" || pinned == want):
		return spec.CanaryService, nil
	case want != "" && len(others) > 0:
		expected := "a Service the Ingress routes to: " + strings.Join(others, ", ")
		if spec.StableService == "" {
			expected = fmt.Sprintf("set: this rollout replaces %s, which the Ingress no longer routes to (it routes to %s); ingress-canary does not pick another Service on its own",
				pinned, strings.Join(others, ", "))
		}
		return "", &annotations.Error{Key: annotations.KeyStableService, Value: spec.StableService, Expected: expected}
	case len(others) == 1:
		return others[0], nil
	case len(others) == 0 && used[spec.CanaryService]:
		return spec.CanaryService, nil
	case len(others) == 0:
		return "", &Problem{Field: "spec.rules", Value: "", Expected: "at least one path routed to a Service"}
	}
	return "", &annotations.Error{Key: annotations.KeyStableService, Value: "",
		Expected: "the Service to replace, because the Ingress routes to several: " + strings.Join(others, ", ")}
}

// resolveCanaryPort checks that every replaced path's port exists on the canary
// Service, as canary-port or as the same port the stable backend uses.
func resolveCanaryPort(primary *networkingv1.Ingress, spec *annotations.Spec, stable string, svc *corev1.Service) (networkingv1.ServiceBackendPort, error) {
	want := networkingv1.ServiceBackendPort{Name: spec.CanaryPort.Name, Number: spec.CanaryPort.Number}
	explicit := want.Name != "" || want.Number != 0
	for _, b := range backends.To(primary, stable) {
		p := CanaryPort(want, b.Backend)
		if serviceHasPort(svc, p) {
			if !explicit {
				want = p
			}
			continue
		}
		if explicit {
			return want, &annotations.Error{Key: annotations.KeyCanaryPort, Value: PortString(p),
				Expected: "a port of Service " + svc.Name + ": " + servicePorts(svc)}
		}
		return want, &annotations.Error{Key: annotations.KeyCanaryPort, Value: "",
			Expected: fmt.Sprintf("set, because Service %s has no port %s like the stable backend (it has %s)", svc.Name, PortString(p), servicePorts(svc))}
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

// PortString is a Service port as an Ingress backend names it: its name, or its number.
func PortString(p networkingv1.ServiceBackendPort) string {
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

// OwnCanary returns the existing canary Ingress if the primary controls it. One
// with the same name that it does not control is a conflict: never overwrite it.
func OwnCanary(l Listers, primary *networkingv1.Ingress) (*networkingv1.Ingress, error) {
	ing, err := l.Ingresses.Ingresses(primary.Namespace).Get(CanaryName(primary.Name))
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !metav1.IsControlledBy(ing, primary) {
		return nil, &Problem{Field: "metadata.name", Value: ing.Name,
			Expected: "no Ingress of that name, or one created by ingress-canary for " + primary.Name + "; it exists and is not ours, so it is left alone"}
	}
	return ing, nil
}

// conflicts finds what would make ingress-nginx ignore or mis-merge our canary:
//   - another canary Ingress on one of our host/paths (nginx uses only the first);
//   - the canary Service used as a primary backend elsewhere (nginx merges
//     canaries per upstream, so that Ingress would be split too);
//
// The first two are problems with this Ingress (returned as the error). The
// canary Service already the canary of another rollout is a conflict in the
// world instead (nginx keeps one weight per upstream, so one of the two would
// report a split it does not get): the rivals are returned, older canary
// Ingresses than ours, whose rollouts keep the Service.
func conflicts(l Listers, primary *networkingv1.Ingress, canaryService string, ours *networkingv1.Ingress) ([]*networkingv1.Ingress, error) {
	all, err := l.Ingresses.Ingresses(primary.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	paths := hostPaths(primary)
	var errs []error
	var rivals []*networkingv1.Ingress
	for _, other := range all {
		if other.UID == primary.UID || metav1.IsControlledBy(other, primary) {
			continue
		}
		routesToCanary := len(backends.To(other, canaryService)) > 0
		if other.Annotations[annotations.NginxCanary] != "true" {
			if routesToCanary {
				errs = append(errs, &annotations.Error{Key: annotations.KeyCanaryService, Value: canaryService,
					Expected: "a Service no other Ingress routes to, but Ingress " + other.Name + " does; ingress-nginx would split its traffic too"})
			}
			continue
		}
		for hp := range hostPaths(other) {
			if paths[hp] {
				errs = append(errs, &Problem{Field: "Ingress " + other.Name, Value: hp,
					Expected: "no other canary Ingress on " + hp + ": ingress-nginx would use only one of them"})
				break
			}
		}
		if routesToCanary && !olderThan(ours, other) {
			rivals = append(rivals, other)
		}
	}
	return rivals, errors.Join(errs...)
}

// olderThan reports whether ours exists and was created before other (by
// name when created in the same second), so that of two rollouts that raced
// onto one canary Service exactly one carries on.
func olderThan(ours, other *networkingv1.Ingress) bool {
	if ours == nil {
		return false
	}
	a, b := ours.CreationTimestamp, other.CreationTimestamp
	if !a.Equal(&b) {
		return a.Before(&b)
	}
	return ours.Name < other.Name
}

// ownerName names the Ingress that controls a canary Ingress, or says it has none.
func ownerName(ing *networkingv1.Ingress) string {
	if owner := metav1.GetControllerOf(ing); owner != nil {
		return "Ingress " + owner.Name
	}
	return "no controlling Ingress"
}

// sharedStable lists the other Ingresses of the class that route to the stable
// Service on one of the ports the primary uses. ingress-nginx attaches a canary
// to the upstream (Service and port), not to the Ingress, and Traefik's
// ingress-nginx provider does the same: their users would get the canary, and
// no analysis would ever look at their requests.
func sharedStable(l Listers, ingressClass string, primary *networkingv1.Ingress, stable string) ([]string, error) {
	all, err := l.Ingresses.Ingresses(primary.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	svc, err := l.Services.Get(primary.Namespace, stable)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	ours := backends.To(primary, stable)
	var names []string
	for _, other := range all {
		if other.UID == primary.UID || metav1.IsControlledBy(other, primary) ||
			other.Annotations[annotations.NginxCanary] == "true" || classOf(other) != ingressClass {
			continue
		}
		if sharesPort(svc, ours, backends.To(other, stable)) {
			names = append(names, other.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// sharesPort reports whether any of theirs routes to the same Service port as
// one of ours. A port by name and the same port by number are one port; svc
// (nil when unknown) says which name is which number.
func sharesPort(svc *corev1.Service, ours, theirs []backends.Ref) bool {
	number := func(p networkingv1.ServiceBackendPort) int32 {
		if p.Name == "" || svc == nil {
			return p.Number
		}
		for _, sp := range svc.Spec.Ports {
			if sp.Name == p.Name {
				return sp.Port
			}
		}
		return 0
	}
	for _, a := range ours {
		for _, b := range theirs {
			pa, pb := a.Backend.Service.Port, b.Backend.Service.Port
			if pa == pb || (number(pa) != 0 && number(pa) == number(pb)) {
				return true
			}
		}
	}
	return false
}

// ConflictOf turns what Check found in the world around a valid spec into
// the problem the user reads: nil when no other Ingress shares the stable
// upstream and no other rollout has the canary Service. Such a conflict makes
// a higher weight unsafe, but says nothing wrong about this Ingress: the state
// machine refuses to start, and holds a running rollout, until it is gone.
func ConflictOf(spec *annotations.Spec, w World) error {
	var errs []error
	if len(w.SharedStable) > 0 {
		errs = append(errs, &annotations.Error{Key: annotations.KeyStableService, Value: w.Stable,
			Expected: fmt.Sprintf("a Service only this Ingress routes to, but Ingress %s also routes to %s on the same port: ingress-nginx applies a canary to every Ingress that routes to the same Service and port, so its users would be served %s too, unanalysed; route this Ingress to a Service of its own for the stable version (same selector, another name)",
				strings.Join(w.SharedStable, ", "), w.Stable, spec.CanaryService)})
	}
	for _, rival := range w.Rivals {
		errs = append(errs, &annotations.Error{Key: annotations.KeyCanaryService, Value: spec.CanaryService,
			Expected: fmt.Sprintf("a Service that is not already the canary of another rollout, but canary Ingress %s (of %s) routes to it; ingress-nginx keeps one canary weight per Service, so the two rollouts would fight over it",
				rival.Name, ownerName(rival))})
	}
	return errors.Join(errs...)
}

func hostPaths(ing *networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, b := range backends.Of(ing) {
		if hp := b.HostPath(); hp != "" {
			out[hp] = true
		}
	}
	return out
}

// EndpointReady reads an endpoint's Ready condition; nil means ready, as the
// EndpointSlice API defines.
func EndpointReady(e discoveryv1.Endpoint) bool {
	return e.Conditions.Ready == nil || *e.Conditions.Ready
}

// CanaryPort is canary-port when set, else the stable backend's own port.
func CanaryPort(set networkingv1.ServiceBackendPort, stable networkingv1.IngressBackend) networkingv1.ServiceBackendPort {
	if set.Name != "" || set.Number != 0 {
		return set
	}
	return stable.Service.Port
}
