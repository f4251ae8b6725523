package weights

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestNeedsBaseline(t *testing.T) {
	assert.True(t, NeedsBaseline(onStep(1, "5")), "a running rollout without an estimate")
	seeded := onStep(1, "5")
	seeded.Dispersion = &analysis.DispersionEstimate{}
	assert.False(t, NeedsBaseline(seeded), "once per rollout")
	assert.False(t, NeedsBaseline(Status{Phase: PhaseFailed}))
	assert.False(t, NeedsBaseline(Status{Phase: PhaseIdle}))
}

func TestWithBaseline(t *testing.T) {
	hour := func(rps, errorRate float64) *analysis.Baseline {
		b := &analysis.Baseline{RPS: rps, ErrorRate: errorRate, Span: time.Hour, Step: 30 * time.Second}
		for range 120 {
			b.Dispersion.Add(30*rps*errorRate, 30*rps)
		}
		return b
	}
	defaults, err := annotations.Parse(map[string]string{annotations.KeyCanaryService: "web-v2"})
	require.NoError(t, err)
	tests := []struct {
		name     string
		b        *analysis.Baseline
		err      error
		reason   string
		contains string
		warning  bool
	}{
		{"an hour at 5 rps", hour(5, 0.005), nil, "Forecast", "at 5 rps (0.50% errors), a healthy canary should take about", false},
		{"at 200 rps it is the steps' minimum", hour(200, 0.005), nil, "Forecast", "about 4m", false},
		{"a spotless service at 5 rps", hour(5, 0), nil, "Forecast", "at 5 rps (0.00% errors), a healthy canary should take about", false},
		{"too little history", &analysis.Baseline{RPS: 5, Span: time.Minute}, nil, "NoForecast", "too little traffic", false},
		{"Prometheus failed", nil, errors.New("connection refused"), "NoForecast", "connection refused", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, e := WithBaseline(defaults, onStep(1, "5"), tt.b, tt.err)
			require.NotNil(t, st.Dispersion, "seeded, or empty: never asked again")
			assert.Equal(t, tt.reason, e.Reason)
			assert.Contains(t, e.Message, tt.contains)
			assert.Equal(t, tt.warning, e.Warning)
		})
	}
}

func TestRolloutForecastAtTheBound(t *testing.T) {
	s := spec(func(s *annotations.Spec) { s.Analysis.MaxStepDuration = 10 * time.Minute })
	assert.Contains(t, RolloutForecast(s, analysis.DispersionEstimate{}, 1, 0.005), "not expected to pass a step within")
	bg := spec(func(s *annotations.Spec) { s.Strategy = annotations.StrategyBlueGreen })
	assert.Contains(t, RolloutForecast(bg, analysis.DispersionEstimate{}, 100, 0.005), "testers' requests")
}
