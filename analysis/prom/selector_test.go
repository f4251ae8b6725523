package prom

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// anyOf's pattern, unquoted as PromQL does and anchored as Prometheus does,
// matches each value and nothing else, whatever the values hold.
func TestAnyOfMatchesExactlyTheValues(t *testing.T) {
	values := []string{"shop", "web.v1", `a"} or vector(1) or {b="`, `x\`, "web\n", "(.+)|", "shop"}
	lit := anyOf("", values, "")
	pattern, err := strconv.Unquote(lit)
	require.NoError(t, err, lit)
	re := regexp.MustCompile("^(?:" + pattern + ")$")
	for _, v := range values {
		assert.True(t, re.MatchString(v), "%q", v)
	}
	for _, v := range []string{"", "shopx", "webxv1", "anything", "(.+)", "x"} {
		assert.False(t, re.MatchString(v), "%q", v)
	}
	assert.Equal(t, `"\\(\\.\\+\\)\\||a\"\\} or vector\\(1\\) or \\{b=\""`, anyOf("", []string{`a"} or vector(1) or {b="`, "(.+)|"}, ""), "a bare alternation, which Prometheus looks up as a set")
}

func TestAnyOfLeavesOutWhatNoLabelHolds(t *testing.T) {
	assert.Equal(t, `"shop"`, anyOf("", []string{"shop\xff", "shop"}, ""))
	none, err := strconv.Unquote(anyOf("", []string{"\xff"}, ""))
	require.NoError(t, err)
	re := regexp.MustCompile("^(?:" + none + ")$")
	assert.False(t, re.MatchString(""), "not even a series without the label")
}

func TestQueriesForSomeGroups(t *testing.T) {
	only := []group{{"shop", "web"}, {"bulk", "app.1"}}
	q := Nginx{}.Queries(only)
	assert.Equal(t, `sum by (namespace, ingress, service, canary, instance) (nginx_ingress_controller_requests{namespace=~"bulk|shop",ingress=~"app\\.1|web"})`, q.Requests)
	assert.Equal(t, `sum by (namespace, ingress, service, canary, instance) (nginx_ingress_controller_requests{status=~"5..",namespace=~"bulk|shop",ingress=~"app\\.1|web"})`, q.Errors)
	assert.Contains(t, q.Buckets, `nginx_ingress_controller_requests{canary!="",namespace=~"bulk|shop",ingress=~"app\\.1|web"}`)

	tq := Traefik{}.Queries([]group{{name: "shop-web-web-80"}})
	assert.Equal(t, `sum by (service, instance) (traefik_service_requests_total{service=~"shop-web-web-80-canary@kubernetesingressnginx|shop-web-web-80@kubernetesingressnginx",code=~"5.."})`, tq.Errors)
	assert.Contains(t, tq.Buckets, `group by (service) (traefik_service_requests_total{service=~"shop-web-web-80-canary@kubernetesingressnginx"})`)

	gq := TraefikGateway{}.Queries([]group{{scope: "httproute", name: "shop-web"}})
	assert.Equal(t, `sum by (service, instance) (traefik_service_requests_total{service=~"httproute-(?:shop-web)-gw-.+@kubernetesgateway"})`, gq.Requests)
}
