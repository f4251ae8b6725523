package httproute

import (
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// The API's limits on a route (the CRD's validation): the controller checks
// them before it adds rules, so a step is refused with a reason instead of
// being rejected by the apiserver.
const (
	maxRules        = 16
	maxMatches      = 128
	maxRuleMatches  = 64
	maxBackendRefs  = 16
	ruleField       = "spec.rules[%d]"
	backendRefField = "spec.rules[%d].backendRefs"
)

// Lint checks that the source spec can be canaried from stable to canary
// with e's routing, without touching anything the controller does not own.
// Each problem names the field and the value.
func Lint(src gwv1.HTTPRouteSpec, e Edit) error {
	var errs []error
	canaried, testers, matches := 0, 0, 0
	for i, r := range src.Rules {
		matches += max(len(r.Matches), 1)
		if IsTesterRule(r) {
			errs = append(errs, &preflight.Problem{Field: fmt.Sprintf(ruleField, i) + ".name", Value: string(*r.Name),
				Expected: "a rule name that does not start with " + TesterRulePrefix + "-: ingress-canary names the testers' rules it adds so"})
		}
		if refIndex(r, e.Namespace, e.Stable) < 0 || e.Stable == e.Canary {
			continue
		}
		canaried++
		if err := lintCanaried(i, r, e); err != nil {
			errs = append(errs, err)
		}
		if n := len(TesterHeaders(e.Routing)); n > 0 {
			testers++
			matches += n * max(len(r.Matches), 1)
		}
	}
	if canaried == 0 && e.Stable != e.Canary {
		errs = append(errs, &annotations.Error{Key: annotations.KeyStableService, Value: e.Stable,
			Expected: "a Service that a rule of the HTTPRoute routes to"})
	}
	if n := len(src.Rules) + testers; n > maxRules {
		errs = append(errs, &preflight.Problem{Field: "spec.rules", Value: fmt.Sprint(len(src.Rules)),
			Expected: fmt.Sprintf("at most %d rules with the %d testers' rules added (the API allows %d); route testers by header or cookie on fewer rules, or split the HTTPRoute", maxRules-testers, testers, maxRules)})
	}
	if matches > maxMatches {
		errs = append(errs, &preflight.Problem{Field: "spec.rules", Value: fmt.Sprintf("%d matches with the testers' rules", matches),
			Expected: fmt.Sprintf("at most %d matches in all (the API's limit)", maxMatches)})
	}
	return errors.Join(errs...)
}

// lintCanaried checks one rule that routes to the stable Service: the
// controller writes the only weights of that rule, so a rule that already
// splits its traffic (another rollout tool's weights, or the user's) is
// refused, never rewritten.
func lintCanaried(i int, r gwv1.HTTPRouteRule, e Edit) error {
	var names []string
	weighted := false
	for _, b := range r.BackendRefs {
		names = append(names, string(b.Name))
		weighted = weighted || (b.Weight != nil && *b.Weight != DefaultWeight)
	}
	switch {
	case len(r.BackendRefs) > 1:
		return &preflight.Problem{Field: fmt.Sprintf(backendRefField, i), Value: strings.Join(names, ", "),
			Expected: fmt.Sprintf("one backendRef, to %s alone: this rule already splits its traffic (another controller's or your weights), and ingress-canary does not overwrite weights it did not write", e.Stable)}
	case weighted:
		return &preflight.Problem{Field: fmt.Sprintf(backendRefField, i) + "[0].weight", Value: fmt.Sprint(*r.BackendRefs[0].Weight),
			Expected: fmt.Sprintf("the default weight %d on a rule with one backendRef (another weight means nothing there, and a rollback restores the default); another controller's weights?", DefaultWeight)}
	case len(r.Matches)*len(TesterHeaders(e.Routing)) > maxRuleMatches:
		return &preflight.Problem{Field: fmt.Sprintf(ruleField, i) + ".matches", Value: fmt.Sprint(len(r.Matches)),
			Expected: fmt.Sprintf("at most %d matches, so that the testers' rule (one match per match and per header or cookie) stays within the API's %d", maxRuleMatches/max(len(TesterHeaders(e.Routing)), 1), maxRuleMatches)}
	}
	for _, m := range r.Matches {
		for _, h := range m.Headers {
			for _, t := range TesterHeaders(e.Routing) {
				if strings.EqualFold(string(h.Name), string(t.Name)) {
					return &preflight.Problem{Field: fmt.Sprintf(ruleField, i) + ".matches.headers", Value: string(h.Name),
						Expected: "no match on the testers' header " + string(t.Name) + ": the testers' rule would need the header to have two values at once"}
				}
			}
		}
	}
	return nil
}

// LintConditions refuses a route that its parents have not accepted, or whose
// backendRefs they could not resolve (the canary's among them, once added):
// a weight written there would not be served as written.
func LintConditions(route *gwv1.HTTPRoute) error {
	if len(route.Status.Parents) == 0 {
		return &preflight.Problem{Field: "status.parents", Value: "",
			Expected: "the HTTPRoute Accepted by its parent Gateway; no Gateway controller has reported on it yet"}
	}
	var errs []error
	for _, p := range route.Status.Parents {
		for _, want := range []gwv1.RouteConditionType{gwv1.RouteConditionAccepted, gwv1.RouteConditionResolvedRefs} {
			c := findCondition(p.Conditions, string(want))
			if c != nil && c.Status == metav1.ConditionTrue {
				continue
			}
			value := "missing"
			if c != nil {
				value = fmt.Sprintf("%s: %s: %s", c.Status, c.Reason, c.Message)
			}
			errs = append(errs, &preflight.Problem{Field: fmt.Sprintf("status.parents[%s].conditions[%s]", string(p.ParentRef.Name), want), Value: value,
				Expected: "True: " + conditionWhy(want)})
		}
	}
	return errors.Join(errs...)
}

func conditionWhy(t gwv1.RouteConditionType) string {
	if t == gwv1.RouteConditionAccepted {
		return "a route its Gateway does not accept is not served, so no step of it could be measured"
	}
	return "a backendRef the Gateway cannot resolve (a missing Service or port, a refused cross-namespace reference) is served as errors, not as weighted traffic"
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// LintSharedCanary refuses a canary Service that another HTTPRoute of the
// namespace routes to: its users would be served the canary unanalysed, and
// a rollback could not take it away from them.
func LintSharedCanary(route *gwv1.HTTPRoute, others []*gwv1.HTTPRoute, canary string) error {
	var names []string
	for _, o := range others {
		if o.UID == route.UID || o.Namespace != route.Namespace {
			continue
		}
		if Services(o.Spec, o.Namespace)[canary] {
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &annotations.Error{Key: annotations.KeyCanaryService, Value: canary,
		Expected: "a Service no other HTTPRoute routes to, but HTTPRoute " + strings.Join(names, ", ") + " does: its users would be served the canary unanalysed, and a rollback could not take it from them"}
}
