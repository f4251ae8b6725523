package httproute

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// TesterRulePrefix starts the name of every rule the controller adds for
// testers: "ingress-canary-testers-<n>", n counting the canaried rules from
// 0. The name is how the controller finds its own rules again (also after a
// restart), and how a GitOps tool is told to ignore them.
const TesterRulePrefix = "ingress-canary-testers"

// TesterRuleName is the name of the testers' rule of the n-th canaried rule.
func TesterRuleName(n int) gwv1.SectionName {
	return gwv1.SectionName(fmt.Sprintf("%s-%d", TesterRulePrefix, n))
}

// IsTesterRule reports whether a rule carries a testers' rule name.
func IsTesterRule(r gwv1.HTTPRouteRule) bool {
	return r.Name != nil && strings.HasPrefix(string(*r.Name), TesterRulePrefix+"-")
}

// DefaultWeight is what the API stores for a backendRef written without a
// weight (the CRD's default). A rule with one backendRef has it; the
// controller writes it into the testers' rules and restores it on the stable
// backendRef, so that what it writes is exactly what the API keeps.
const DefaultWeight int32 = 1

// Edit is what one step writes into a route.
type Edit struct {
	// Namespace is the route's: backendRefs to other namespaces are never touched.
	Namespace string
	// Stable is the Service being replaced; the rules that route to it are canaried.
	Stable string
	Canary string
	// CanaryPort is canary-port; nil means the stable backendRef's own port.
	CanaryPort *gwv1.PortNumber
	Routing    annotations.Routing
	// Weight is the canary's share of each canaried rule.
	Weight annotations.Weight
	// Switch replaces the stable backendRef by the canary (promote-by: switch).
	Switch bool
}

// Apply returns the source spec (Strip's result) with e written into it:
//   - in each canaried rule, the stable backendRef gets weight Full-Weight and
//     a copy of it naming the canary Service, with weight Weight, is appended
//     to the rule's backendRefs (Switch: the stable backendRef is replaced by
//     that copy, with the stable one's weight);
//   - one testers' rule per canaried rule is appended to the rules: the
//     rule's own matches, each with the testers' header (or cookie) match
//     added, its filters and timeouts, and the canary backendRef alone, with
//     the default weight: no split is written into it.
//
// Nothing else changes, and no rule moves: what the user wrote keeps its
// index, so the data plane's names for it (Traefik's metrics) stay the same.
func Apply(src gwv1.HTTPRouteSpec, e Edit) gwv1.HTTPRouteSpec {
	out := *src.DeepCopy()
	if e.Stable == e.Canary {
		return out // promoted at the source: nothing left to add
	}
	var testers []gwv1.HTTPRouteRule
	for i := range out.Rules {
		rule := &out.Rules[i]
		at := refIndex(*rule, e.Namespace, e.Stable)
		if at < 0 {
			continue
		}
		canary := canaryRef(rule.BackendRefs[at], e)
		if t, ok := testerRule(*rule, canary, e.Routing, len(testers)); ok {
			testers = append(testers, t)
		}
		if e.Switch {
			canary.Weight = rule.BackendRefs[at].Weight
			rule.BackendRefs[at] = canary
			continue
		}
		rule.BackendRefs[at].Weight = weight(annotations.Full - e.Weight)
		canary.Weight = weight(e.Weight)
		rule.BackendRefs = append(rule.BackendRefs, canary)
	}
	out.Rules = append(out.Rules, testers...)
	return out
}

// Strip returns spec without anything Apply added for a rollout from stable
// to any of canaries (the current canary-service, and the revision the
// status names, so that a redeploy to a new canary takes the old one's
// backendRef away in the same write): the testers' rules go, and in each
// rule that routes to stable and to one of them, those canary backendRefs
// go and the stable one's weight is the default again (lint refuses a
// source whose canaried rule carries another weight, so the default is what
// the user wrote). A promoted (switched) rule routes to the canary alone and
// stays as it is.
func Strip(spec gwv1.HTTPRouteSpec, namespace, stable string, canaries ...string) gwv1.HTTPRouteSpec {
	out := *spec.DeepCopy()
	isCanary := func(b gwv1.HTTPBackendRef) bool {
		for _, c := range canaries {
			if c != "" && c != stable && isService(b.BackendObjectReference, namespace, c) {
				return true
			}
		}
		return false
	}
	rules := out.Rules[:0]
	for _, r := range out.Rules {
		if IsTesterRule(r) {
			continue
		}
		if stable != "" && refIndex(r, namespace, stable) >= 0 && slices.ContainsFunc(r.BackendRefs, isCanary) {
			refs := r.BackendRefs[:0]
			for _, b := range r.BackendRefs {
				switch {
				case isCanary(b):
					continue
				case isService(b.BackendObjectReference, namespace, stable):
					b.Weight = new(DefaultWeight)
				}
				refs = append(refs, b)
			}
			r.BackendRefs = refs
		}
		rules = append(rules, r)
	}
	out.Rules = rules
	return out
}

// canaryRef is the stable backendRef pointed at the canary Service: same
// group, kind, filters and (unless canary-port says otherwise) port.
func canaryRef(stable gwv1.HTTPBackendRef, e Edit) gwv1.HTTPBackendRef {
	ref := *stable.DeepCopy()
	ref.Name = gwv1.ObjectName(e.Canary)
	if e.CanaryPort != nil {
		p := *e.CanaryPort
		ref.Port = &p
	}
	ref.Weight = new(DefaultWeight)
	return ref
}

func weight(w annotations.Weight) *int32 {
	v := int32(w)
	return &v
}

// testerRule is the n-th testers' rule for a canaried rule, or false when
// testers are not routed (no header and no cookie).
func testerRule(rule gwv1.HTTPRouteRule, canary gwv1.HTTPBackendRef, r annotations.Routing, n int) (gwv1.HTTPRouteRule, bool) {
	headers := TesterHeaders(r)
	if len(headers) == 0 {
		return gwv1.HTTPRouteRule{}, false
	}
	matches := rule.Matches
	if len(matches) == 0 {
		// The API defaults an empty list to one match of every path.
		prefix, root := gwv1.PathMatchPathPrefix, "/"
		matches = []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &root}}}
	}
	t := gwv1.HTTPRouteRule{
		Name:        new(TesterRuleName(n)),
		Filters:     rule.Filters,
		Timeouts:    rule.Timeouts,
		BackendRefs: []gwv1.HTTPBackendRef{canary},
	}
	for _, h := range headers {
		for _, m := range matches {
			c := *m.DeepCopy()
			c.Headers = append(c.Headers, h)
			t.Matches = append(t.Matches, c)
		}
	}
	return *t.DeepCopy(), true
}

// TesterHeaders are the header matches that send a tester to the canary,
// with ingress-nginx's meaning of the same keys: header alone matches
// "always", header-value matches exactly, header-pattern as a regular
// expression; cookie matches a Cookie header that carries <cookie>=always.
// A request matching any of them is a tester's.
func TesterHeaders(r annotations.Routing) []gwv1.HTTPHeaderMatch {
	exact, regex := gwv1.HeaderMatchExact, gwv1.HeaderMatchRegularExpression
	var out []gwv1.HTTPHeaderMatch
	switch {
	case r.Header == "":
	case r.HeaderPattern != "":
		out = append(out, gwv1.HTTPHeaderMatch{Type: &regex, Name: gwv1.HTTPHeaderName(r.Header), Value: r.HeaderPattern})
	case r.HeaderValue != "":
		out = append(out, gwv1.HTTPHeaderMatch{Type: &exact, Name: gwv1.HTTPHeaderName(r.Header), Value: r.HeaderValue})
	default:
		out = append(out, gwv1.HTTPHeaderMatch{Type: &exact, Name: gwv1.HTTPHeaderName(r.Header), Value: "always"})
	}
	if r.Cookie != "" {
		out = append(out, gwv1.HTTPHeaderMatch{Type: &regex, Name: "Cookie",
			Value: `(^|;\s*)` + regexp.QuoteMeta(r.Cookie) + `=always(;|$)`})
	}
	return out
}
