package controller

import (
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/routers"
	"github.com/ingress-canary/ingress-canary/weights"
)

// routeWorld is what the checks resolved about one route.
type routeWorld struct {
	stable     string
	canaryPort *gwv1.PortNumber
	impl       routers.GatewayImplementation
}

// readRoute parses the route and runs the checks; problems land in Invalid,
// and then Spec stays nil, so that traffic is left exactly as it is.
func (c *RouteController) readRoute(route *gwv1.HTTPRoute) (weights.Input, routeWorld) {
	var in weights.Input
	var w routeWorld
	status, err := weights.ParseStatus(route.Annotations[annotations.KeyStatus])
	if err != nil {
		c.log.Warn("ignoring unreadable status", routeFields(route)...)
	}
	in.Status = status
	in.Commands, in.Invalid = annotations.ParseCommands(route.Annotations)
	spec, err := annotations.Parse(route.Annotations)
	in.Invalid = joinErr(in.Invalid, err)
	if in.Invalid != nil || spec == nil {
		return in, w
	}
	w, err = c.checkRoute(route, spec, status)
	if err != nil {
		in.Invalid = err
		return in, w
	}
	others, err := c.listers.routes.HTTPRoutes(route.Namespace).List(labels.Everything())
	if err != nil {
		in.Invalid = err
		return in, w
	}
	in.Conflict = httproute.LintSharedCanary(route, others, spec.CanaryService)
	in.CanaryReady, err = c.listers.core.EndpointSlices.Ready(route.Namespace, spec.CanaryService)
	in.Invalid = err
	if in.Invalid == nil {
		in.Spec, in.StableService = spec, w.stable
	}
	return in, w
}

// checkRoute resolves the stable Service and the data plane, and lints the
// route's source (what the user wrote, without our additions).
func (c *RouteController) checkRoute(route *gwv1.HTTPRoute, spec *annotations.Spec, status weights.Status) (routeWorld, error) {
	var w routeWorld
	pinned := status.PinnedStable(spec.CanaryService)
	// Ours are the current canary's additions and those of the revision the
	// status names (a redeploy to a new canary-service).
	canaries := []string{spec.CanaryService, status.Revision}
	stable, err := httproute.ResolveStable(httproute.Strip(route.Spec, route.Namespace, status.Stable, canaries...), route.Namespace, spec, pinned)
	if err != nil {
		return w, err
	}
	w.stable = stable
	src := httproute.Strip(route.Spec, route.Namespace, stable, canaries...)
	var errs []error
	if w.impl, err = c.implementation(route); err != nil {
		errs = append(errs, err)
	}
	svc, err := c.listers.core.Services.Get(route.Namespace, spec.CanaryService)
	switch {
	case apierrors.IsNotFound(err):
		errs = append(errs, &annotations.Error{Key: annotations.KeyCanaryService, Value: spec.CanaryService,
			Expected: "an existing Service in namespace " + route.Namespace})
	case err != nil:
		return w, err
	default:
		w.canaryPort, err = canaryRoutePort(src, route.Namespace, spec, stable, svc.Spec.Ports)
		errs = append(errs, err)
	}
	errs = append(errs, httproute.Lint(src, c.edit(route, spec, w, 0)), httproute.LintConditions(route))
	return w, errors.Join(errs...)
}

// implementation is the Gateway API data plane that serves the route: the
// one GatewayClass controllerName of all its parent Gateways, and known.
func (c *RouteController) implementation(route *gwv1.HTTPRoute) (routers.GatewayImplementation, error) {
	names := map[string]bool{}
	for i, p := range route.Spec.ParentRefs {
		field := fmt.Sprintf("spec.parentRefs[%d]", i)
		if (p.Group != nil && *p.Group != gwv1.GroupName) || (p.Kind != nil && *p.Kind != "Gateway") {
			return routers.GatewayImplementation{}, &preflight.Problem{Field: field, Value: string(p.Name), Expected: "a Gateway (kind Gateway of " + gwv1.GroupName + ")"}
		}
		ns := route.Namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		gw, err := c.listers.gateways.Gateways(ns).Get(string(p.Name))
		if err != nil {
			return routers.GatewayImplementation{}, &preflight.Problem{Field: field, Value: ns + "/" + string(p.Name), Expected: "an existing Gateway (" + err.Error() + ")"}
		}
		class, err := c.listers.classes.Get(string(gw.Spec.GatewayClassName))
		if err != nil {
			return routers.GatewayImplementation{}, &preflight.Problem{Field: "Gateway " + ns + "/" + gw.Name + " spec.gatewayClassName", Value: string(gw.Spec.GatewayClassName),
				Expected: "an existing GatewayClass (" + err.Error() + ")"}
		}
		names[string(class.Spec.ControllerName)] = true
	}
	if len(names) != 1 {
		var list []string
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		return routers.GatewayImplementation{}, &preflight.Problem{Field: "spec.parentRefs", Value: fmt.Sprint(list),
			Expected: "parent Gateways of one GatewayClass controller, whose metrics the analysis reads"}
	}
	var controllerName string
	for n := range names {
		controllerName = n
	}
	impl, err := routers.LookupGateway(controllerName)
	if err != nil {
		return impl, &preflight.Problem{Field: "GatewayClass controllerName", Value: controllerName, Expected: err.Error()}
	}
	for field, name := range map[string]string{"metadata.name": route.Name, "metadata.namespace": route.Namespace} {
		if why := impl.NameProblem(name); why != "" {
			return impl, &preflight.Problem{Field: field, Value: name, Expected: "a name the data plane's metrics can be read by: " + why}
		}
	}
	return impl, nil
}

// canaryRoutePort is canary-port (a number: a backendRef names ports by
// number), else nil when the canary Service has every port the stable
// backendRefs use.
func canaryRoutePort(src gwv1.HTTPRouteSpec, namespace string, spec *annotations.Spec, stable string, ports []corev1.ServicePort) (*gwv1.PortNumber, error) {
	has := func(n int32) bool {
		for _, p := range ports {
			if p.Port == n {
				return true
			}
		}
		return false
	}
	if spec.CanaryPort.Name != "" {
		return nil, &annotations.Error{Key: annotations.KeyCanaryPort, Value: spec.CanaryPort.Name,
			Expected: "a port number: an HTTPRoute backendRef names a Service port by number"}
	}
	if n := spec.CanaryPort.Number; n != 0 {
		if !has(n) {
			return nil, &annotations.Error{Key: annotations.KeyCanaryPort, Value: fmt.Sprint(n), Expected: "a port of Service " + spec.CanaryService}
		}
		p := gwv1.PortNumber(n)
		return &p, nil
	}
	if stable == spec.CanaryService {
		return nil, nil
	}
	for _, r := range src.Rules {
		for _, b := range r.BackendRefs {
			if string(b.Name) == stable && b.Port != nil && !has(int32(*b.Port)) {
				return nil, &annotations.Error{Key: annotations.KeyCanaryPort, Value: "",
					Expected: fmt.Sprintf("set, because Service %s has no port %d like the stable backendRef", spec.CanaryService, *b.Port)}
			}
		}
	}
	return nil, nil
}

// edit is the step's edit of the route at weight wt.
func (c *RouteController) edit(route *gwv1.HTTPRoute, spec *annotations.Spec, w routeWorld, wt annotations.Weight) httproute.Edit {
	return httproute.Edit{Namespace: route.Namespace, Stable: w.stable, Canary: spec.CanaryService, CanaryPort: w.canaryPort,
		Routing: spec.Routing, Weight: wt}
}
