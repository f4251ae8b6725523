package annotations

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOptOut(t *testing.T) {
	spec, err := Parse(map[string]string{"other": "x"})
	require.NoError(t, err)
	assert.Nil(t, spec)
}

func TestParseDefaults(t *testing.T) {
	spec, err := Parse(map[string]string{KeyCanaryService: "web-v2"})
	require.NoError(t, err)
	assert.Equal(t, &Spec{
		CanaryService: "web-v2",
		Strategy:      StrategyCanary,
		Steps:         []Weight{500, 1000, 2500, 5000},
		Interval:      time.Minute,
		Analysis: Analysis{
			MaxErrorRate: 0.01, LatencyQuantile: 0.99, MinRequests: 50,
			FailureLimit: 0, NoDataLimit: 10, MaxStepDuration: 2 * time.Hour, Inconclusive: InconclusiveFail,
		},
		Promotion: PromotionAuto,
		PromoteBy: PromoteBySwitch,
	}, spec)
}

func TestParseEveryKey(t *testing.T) {
	spec, err := Parse(map[string]string{
		KeyCanaryService:   " web-v2 ",
		KeyCanaryPort:      "http",
		KeyStableService:   "web-v1",
		KeyStrategy:        "blue-green",
		KeySteps:           "0.5, 1,5,25,50,100",
		KeyInterval:        "30s",
		KeyMaxErrorRate:    "2.5%",
		KeyMaxLatency:      "250ms",
		KeyLatencyQuantile: "95%",
		KeyMinRequests:     "200",
		KeyFailureLimit:    "2",
		KeyNoDataLimit:     "3",
		KeyMaxStepDuration: "10m",
		KeyInconclusive:    "promote",
		KeyHeader:          "X-Canary",
		KeyHeaderPattern:   "^(qa|dev)$",
		KeyCookie:          "canary",
		KeyPromotion:       "manual",
		KeyPromoteBy:       "weight",
	})
	require.NoError(t, err)
	assert.Equal(t, "web-v2", spec.CanaryService)
	assert.Equal(t, Port{Name: "http"}, spec.CanaryPort)
	assert.Equal(t, "web-v1", spec.StableService)
	assert.Equal(t, StrategyBlueGreen, spec.Strategy)
	assert.Equal(t, []Weight{50, 100, 500, 2500, 5000, 10000}, spec.Steps)
	assert.Equal(t, []Weight{0}, spec.Plan(), "blue-green previews at 0 and promotes by switching")
	assert.Equal(t, 30*time.Second, spec.Interval)
	assert.InDelta(t, 0.025, spec.Analysis.MaxErrorRate, 1e-12)
	assert.Equal(t, 250*time.Millisecond, spec.Analysis.MaxLatency)
	assert.InDelta(t, 0.95, spec.Analysis.LatencyQuantile, 1e-12)
	assert.Equal(t, Analysis{MaxErrorRate: spec.Analysis.MaxErrorRate, MaxLatency: 250 * time.Millisecond,
		LatencyQuantile: spec.Analysis.LatencyQuantile, MinRequests: 200, FailureLimit: 2, NoDataLimit: 3,
		MaxStepDuration: 10 * time.Minute, Inconclusive: InconclusivePromote}, spec.Analysis)
	assert.Equal(t, Routing{Header: "X-Canary", HeaderPattern: "^(qa|dev)$", Cookie: "canary"}, spec.Routing)
	assert.Equal(t, PromotionManual, spec.Promotion)
	assert.Equal(t, PromoteByWeight, spec.PromoteBy)
}

func TestParseErrorsNameKeyAndValue(t *testing.T) {
	cases := []struct {
		key, value string
		extra      map[string]string
		want       string
	}{
		{KeyCanaryService, "Web_V2", nil, "a Service name"},
		{KeyCanaryService, "", nil, "a Service name"},
		{KeyCanaryPort, "70000", nil, "between 1 and 65535"},
		{KeyCanaryPort, "not a port!", nil, "port name"},
		{KeyStableService, "-bad", nil, "a Service name"},
		{KeyStrategy, "linear", nil, "one of canary, blue-green"},
		{KeySteps, "5,3", nil, "strictly increasing weights, got 3 after 5"},
		{KeySteps, "5,5", nil, "strictly increasing"},
		{KeySteps, "0,5", nil, "every weight in (0, 100], got 0"},
		{KeySteps, "5,101", nil, "got 101"},
		{KeySteps, "-1", nil, "got -1"},
		{KeySteps, "5,,10", nil, "empty weight"},
		{KeySteps, "0.125", nil, "more than two decimals"},
		{KeySteps, "ten", nil, "not a number"},
		{KeySteps, "NaN", nil, "not a number"},
		{KeySteps, strings.Repeat("1,", 100) + "1", nil, "at most 100 steps"},
		{KeyInterval, "10", nil, "a Go duration"},
		{KeyInterval, "500ms", nil, "at least 1s"},
		{KeyInterval, "-1m", nil, "a Go duration"},
		{KeyMaxStepDuration, "30s", nil, "at least ingress-canary.dev/interval (1m0s)"},
		{KeyMaxStepDuration, "5m", map[string]string{KeyInterval: "10m"}, "at least ingress-canary.dev/interval (10m0s)"},
		{KeyInconclusive, "pass", nil, "one of fail, promote"},
		{KeyMaxErrorRate, "150%", nil, "a ratio between 0 and 1"},
		{KeyMaxErrorRate, "-0.1", nil, "a ratio"},
		{KeyMaxErrorRate, "lots", nil, "a ratio"},
		{KeyMaxLatency, "fast", nil, "a Go duration"},
		{KeyLatencyQuantile, "1", nil, "strictly between 0 and 1"},
		{KeyLatencyQuantile, "0", nil, "strictly between 0 and 1"},
		{KeyMinRequests, "0", nil, "at least 1"},
		{KeyMinRequests, "1.5", nil, "a whole number"},
		{KeyFailureLimit, "-1", nil, "at least 0"},
		{KeyNoDataLimit, "many", nil, "a whole number"},
		{KeyHeader, "X Canary", nil, "an HTTP header name"},
		{KeyHeaderValue, "yes", nil, "also setting " + KeyHeader},
		{KeyHeaderPattern, "(", map[string]string{KeyHeader: "X-Canary"}, "a regular expression"},
		{KeyHeaderPattern, "x", map[string]string{KeyHeader: "X-Canary", KeyHeaderValue: "y"}, "not both"},
		{KeyCookie, "can ary", nil, "a cookie name"},
		{KeyPromotion, "later", nil, "one of auto, manual"},
		{KeyPromoteBy, "magic", nil, "one of switch, weight"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			ann := map[string]string{KeyCanaryService: "web-v2", tc.key: tc.value}
			for k, v := range tc.extra {
				ann[k] = v
			}
			spec, err := Parse(ann)
			require.Error(t, err)
			assert.Nil(t, spec, "an invalid spec must never be returned")
			errs := AsErrors(err)
			require.Len(t, errs, 1, err.Error())
			assert.Equal(t, tc.key, errs[0].Key)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse(map[string]string{
		KeyCanaryService: "web-v2", KeySteps: "9,1", KeyInterval: "soon", KeyCookie: "a b",
	})
	errs := AsErrors(err)
	keys := []string{}
	for _, e := range errs {
		keys = append(keys, e.Key)
	}
	assert.ElementsMatch(t, []string{KeySteps, KeyInterval, KeyCookie}, keys)
}

func TestParseCommands(t *testing.T) {
	c, err := ParseCommands(map[string]string{KeyPause: "true", KeyAbort: "false"})
	require.NoError(t, err)
	assert.Equal(t, Commands{Pause: true}, c)
	assert.True(t, c.Any())

	_, err = ParseCommands(map[string]string{KeyPromote: "yes"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), KeyPromote)
	assert.Contains(t, err.Error(), `"yes"`)
}

func TestWeight(t *testing.T) {
	for in, want := range map[string]Weight{"0.5": 50, "1": 100, "12.75": 1275, "100": 10000, "5%": 500, "0.01": 1} {
		w, err := ParsePercent(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, w, in)
	}
	assert.Equal(t, "0.5", Weight(50).String())
	assert.Equal(t, "100", Full.String())
	assert.Equal(t, "12.75", Weight(1275).String())
	assert.InDelta(t, 0.005, Weight(50).Ratio(), 1e-12)
}

func TestRender(t *testing.T) {
	got := Render(Routing{Header: "X-Canary", HeaderValue: "on", Cookie: "canary"}, 50)
	assert.Equal(t, map[string]string{
		NginxCanary:              "true",
		NginxCanaryWeight:        "50",
		NginxCanaryWeightTotal:   "10000",
		NginxCanaryByHeader:      "X-Canary",
		NginxCanaryByHeaderValue: "on",
		NginxCanaryByCookie:      "canary",
	}, got)
	assert.NotContains(t, Render(Routing{}, Full), NginxCanaryByHeader)
	for k := range got {
		assert.Contains(t, NginxKeys, k)
	}
}
