package httproute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestLint(t *testing.T) {
	header := annotations.Routing{Header: "X-Canary"}
	named := gwv1.SectionName("ingress-canary-testers-9")
	withHeader := pathRule("/", ref("web", 80, nil))
	withHeader.Matches[0].Headers = []gwv1.HTTPHeaderMatch{{Name: "x-canary", Value: "me"}}
	many := gwv1.HTTPRouteSpec{}
	for range 9 {
		many.Rules = append(many.Rules, pathRule("/", ref("web", 80, nil)))
	}
	cases := []struct {
		name    string
		spec    gwv1.HTTPRouteSpec
		routing annotations.Routing
		want    string // "" means valid
	}{
		{"two rules, one canaried", twoRules(), header, ""},
		{"another controller's weights", gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("api-v1", 80, w(90)), ref("api-argo", 80, w(10)))}}, header,
			`spec.rules[0].backendRefs="api-v1, api-argo": want one backendRef, to api-v1 alone`},
		{"a weight on the only backendRef", gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("api-v1", 80, w(100)))}}, header,
			`spec.rules[0].backendRefs[0].weight="100"`},
		{"stable not in any rule", gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("frontend", 80, nil))}}, header,
			`annotation ingress-canary.dev/stable-service="api-v1" is invalid`},
		{"a user rule with our name", gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{{Name: &named, BackendRefs: []gwv1.HTTPBackendRef{ref("api-v1", 80, nil)}}}}, header,
			`spec.rules[0].name="ingress-canary-testers-9"`},
		{"the testers' header already matched", gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{func() gwv1.HTTPRouteRule {
			r := withHeader
			r.BackendRefs = []gwv1.HTTPBackendRef{ref("api-v1", 80, nil)}
			return r
		}()}}, header, `spec.rules[0].matches.headers="x-canary"`},
		{"too many rules with testers", func() gwv1.HTTPRouteSpec {
			s := *many.DeepCopy()
			for i := range s.Rules {
				s.Rules[i].BackendRefs = []gwv1.HTTPBackendRef{ref("api-v1", 80, nil)}
			}
			return s
		}(), header, `spec.rules="9": want at most 7 rules with the 9 testers' rules added`},
		{"many rules without testers", func() gwv1.HTTPRouteSpec {
			s := *many.DeepCopy()
			for i := range s.Rules {
				s.Rules[i].BackendRefs = []gwv1.HTTPBackendRef{ref("api-v1", 80, nil)}
			}
			return s
		}(), annotations.Routing{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Lint(c.spec, Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", Routing: c.routing})
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestLintConditions(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: "R", Message: "m"}
	}
	route := func(conds ...metav1.Condition) *gwv1.HTTPRoute {
		r := &gwv1.HTTPRoute{}
		if conds != nil {
			r.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: gwv1.ParentReference{Name: "edge"}, Conditions: conds}}
		}
		return r
	}
	assert.NoError(t, LintConditions(route(cond("Accepted", metav1.ConditionTrue), cond("ResolvedRefs", metav1.ConditionTrue))))
	assert.ErrorContains(t, LintConditions(route()), "status.parents")
	assert.ErrorContains(t, LintConditions(route(cond("Accepted", metav1.ConditionFalse), cond("ResolvedRefs", metav1.ConditionTrue))),
		`status.parents[edge].conditions[Accepted]="False: R: m"`)
	assert.ErrorContains(t, LintConditions(route(cond("Accepted", metav1.ConditionTrue), cond("ResolvedRefs", metav1.ConditionFalse))),
		`status.parents[edge].conditions[ResolvedRefs]="False: R: m"`)
	assert.ErrorContains(t, LintConditions(route(cond("Accepted", metav1.ConditionTrue))), `conditions[ResolvedRefs]="missing"`)
}

func TestLintSharedCanary(t *testing.T) {
	mk := func(name, uid, svc string) *gwv1.HTTPRoute {
		r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(uid)}}
		r.Spec.Rules = []gwv1.HTTPRouteRule{pathRule("/", ref(svc, 80, nil))}
		return r
	}
	ours := mk("web", "1", "web-v1")
	assert.NoError(t, LintSharedCanary(ours, []*gwv1.HTTPRoute{ours, mk("admin", "2", "admin")}, "web-v2"))
	assert.EqualError(t, LintSharedCanary(ours, []*gwv1.HTTPRoute{ours, mk("preview", "3", "web-v2")}, "web-v2"),
		`annotation ingress-canary.dev/canary-service="web-v2" is invalid: a Service no other HTTPRoute routes to, but HTTPRoute preview does: its users would be served the canary unanalysed, and a rollback could not take it from them`)
}

func TestResolveStable(t *testing.T) {
	spec := func(stable string) *annotations.Spec {
		return &annotations.Spec{CanaryService: "api-v2", StableService: stable}
	}
	got, err := ResolveStable(twoRules(), ns, spec("api-v1"), "")
	assert.NoError(t, err)
	assert.Equal(t, "api-v1", got)
	_, err = ResolveStable(twoRules(), ns, spec(""), "")
	assert.ErrorContains(t, err, "routes to several: api-v1, frontend")
	_, err = ResolveStable(twoRules(), ns, spec("nope"), "")
	assert.ErrorContains(t, err, `stable-service="nope"`)
	one := gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("api-v1", 80, nil))}}
	got, err = ResolveStable(one, ns, spec(""), "")
	assert.NoError(t, err)
	assert.Equal(t, "api-v1", got)
}
