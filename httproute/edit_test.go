package httproute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

const ns = "shop"

// ref is a backendRef as the API stores it: nil weight means the default.
func ref(name string, port int32, weight *int32) gwv1.HTTPBackendRef {
	p := gwv1.PortNumber(port)
	if weight == nil {
		weight = w(DefaultWeight)
	}
	return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: &p}, Weight: weight}}
}

func pathRule(path string, refs ...gwv1.HTTPBackendRef) gwv1.HTTPRouteRule {
	prefix := gwv1.PathMatchPathPrefix
	return gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}}, BackendRefs: refs}
}

func w(v int32) *int32 { return &v }

// twoRules is the shape users write: /api to the stable Service, / to another.
func twoRules() gwv1.HTTPRouteSpec {
	return gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/api", ref("api-v1", 80, nil)), pathRule("/", ref("frontend", 8080, nil))}}
}

func TestApplyCanariesOnlyTheStableRules(t *testing.T) {
	src := twoRules()
	e := Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", Weight: 2500, Routing: annotations.Routing{Header: "X-Canary"}}
	got := Apply(src, e)
	require.Len(t, got.Rules, 3, "the two user rules and one testers' rule")
	assert.Equal(t, []gwv1.HTTPBackendRef{ref("api-v1", 80, w(7500)), ref("api-v2", 80, w(2500))}, got.Rules[0].BackendRefs)
	assert.Equal(t, src.Rules[1], got.Rules[1], "a rule without the stable Service is untouched")
	testers := got.Rules[2]
	assert.Equal(t, TesterRuleName(0), *testers.Name)
	assert.Equal(t, []gwv1.HTTPBackendRef{ref("api-v2", 80, nil)}, testers.BackendRefs, "the default weight in the testers' rule: no split")
	require.Len(t, testers.Matches, 1)
	assert.Equal(t, "/api", *testers.Matches[0].Path.Value)
	assert.Equal(t, []gwv1.HTTPHeaderMatch{{Type: new(gwv1.HeaderMatchExact), Name: "X-Canary", Value: "always"}}, testers.Matches[0].Headers)
	assert.Equal(t, twoRules(), src, "the source is not changed")
}

func TestApplyThenStripIsTheSourceAtEveryStep(t *testing.T) {
	named := gwv1.SectionName("user")
	multi := gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{
		pathRule("/a", ref("web", 80, nil)),
		{Name: &named, BackendRefs: []gwv1.HTTPBackendRef{ref("other", 81, w(1)), ref("third", 82, w(3))}},
		pathRule("/b", ref("web", 80, nil)),
	}}
	routings := map[string]annotations.Routing{
		"no testers":     {},
		"header":         {Header: "X-Canary"},
		"header value":   {Header: "X-Canary", HeaderValue: "me"},
		"header pattern": {Header: "X-Canary", HeaderPattern: "^(me|you)$"},
		"cookie":         {Cookie: "canary"},
		"both":           {Header: "X-Canary", Cookie: "canary"},
	}
	for name, r := range routings {
		t.Run(name, func(t *testing.T) {
			for _, weight := range []annotations.Weight{0, 50, 1000, 5000, annotations.Full} {
				for _, sw := range []bool{false, true} {
					e := Edit{Namespace: ns, Stable: "web", Canary: "web-v2", Weight: weight, Routing: r, Switch: sw}
					got := Apply(multi, e)
					wantTesters := 0
					if len(TesterHeaders(r)) > 0 {
						wantTesters = 2
					}
					require.Len(t, got.Rules, len(multi.Rules)+wantTesters, "one testers' rule per canaried rule, appended")
					if !sw {
						assert.Equal(t, multi, Strip(got, ns, "web", "web-v2"), "weight %v", weight)
					}
					assert.Equal(t, multi.Rules[1], got.Rules[1], "the unrelated rule keeps its place and fields")
				}
			}
		})
	}
}

func TestApplyWeightsAreExact(t *testing.T) {
	for _, weight := range []annotations.Weight{0, 1, 50, 3333, annotations.Full} {
		got := Apply(twoRules(), Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", Weight: weight})
		refs := got.Rules[0].BackendRefs
		require.Len(t, refs, 2)
		assert.Equal(t, int32(annotations.Full), *refs[0].Weight+*refs[1].Weight)
		assert.Equal(t, int32(weight), *refs[1].Weight)
		assert.Len(t, got.Rules, 2, "no testers' rule without header or cookie")
	}
}

func TestApplySwitchReplacesTheStableBackendRef(t *testing.T) {
	got := Apply(twoRules(), Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", Weight: annotations.Full, Switch: true})
	assert.Equal(t, []gwv1.HTTPBackendRef{ref("api-v2", 80, nil)}, got.Rules[0].BackendRefs)
	src, err := ResolveStable(Strip(got, ns, "api-v1", "api-v2"), ns, &annotations.Spec{CanaryService: "api-v2"}, "api-v1")
	require.NoError(t, err)
	assert.Equal(t, "api-v2", src, "a switched route is promoted: the canary is its stable Service")
}

func TestApplyCanaryPortAndKeepsBackendFilters(t *testing.T) {
	src := twoRules()
	src.Rules[0].BackendRefs[0].Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestHeaderModifier}}
	port := gwv1.PortNumber(9090)
	got := Apply(src, Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", CanaryPort: &port, Weight: 100})
	c := got.Rules[0].BackendRefs[1]
	assert.Equal(t, gwv1.PortNumber(9090), *c.Port)
	assert.Equal(t, src.Rules[0].BackendRefs[0].Filters, c.Filters)
}

func TestTesterHeadersCookieIsQuoted(t *testing.T) {
	h := TesterHeaders(annotations.Routing{Cookie: "a.b"})
	require.Len(t, h, 1)
	assert.Equal(t, gwv1.HTTPHeaderName("Cookie"), h[0].Name)
	assert.Equal(t, `(^|;\s*)a\.b=always(;|$)`, h[0].Value)
}

func TestStripLeavesAnotherControllersWeights(t *testing.T) {
	// A rule that routes to stable and to some other Service (not ours) keeps
	// its weights: only our canary backendRef is ever taken away.
	spec := gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("web", 80, w(90)), ref("web-argo", 80, w(10)))}}
	assert.Equal(t, spec, Strip(spec, ns, "web", "web-v2"))
}

// A redeploy: canary-service moves from api-v2 to api-v3 mid-rollout. Strip
// with both takes api-v2's additions away, so the next Apply starts from the
// source, never beside the old canary.
func TestStripTakesAnOlderRevisionsAdditions(t *testing.T) {
	old := Apply(twoRules(), Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v2", Weight: 2000, Routing: annotations.Routing{Header: "X-Canary"}})
	assert.Equal(t, twoRules(), Strip(old, ns, "api-v1", "api-v3", "api-v2"))
	next := Apply(Strip(old, ns, "api-v1", "api-v3", "api-v2"), Edit{Namespace: ns, Stable: "api-v1", Canary: "api-v3", Weight: 1000})
	assert.Equal(t, []gwv1.HTTPBackendRef{ref("api-v1", 80, w(9000)), ref("api-v3", 80, w(1000))}, next.Rules[0].BackendRefs)
	// A revision that is now the stable Service (promoted earlier) is never taken away.
	promoted := gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{pathRule("/", ref("api-v2", 80, nil))}}
	assert.Equal(t, promoted, Strip(promoted, ns, "api-v2", "api-v3", "api-v2"))
}
