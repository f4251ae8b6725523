package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, args ...string) (options, error) {
	t.Helper()
	fs := flag.NewFlagSet("ingress-canary", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseFlags(fs, append([]string{"--prometheus-url=http://prometheus:9090"}, args...))
}

func TestFlagDefaults(t *testing.T) {
	o, err := parse(t)
	require.NoError(t, err)
	// A standby takes over a crashed leader after the lease plus up to two polls
	// (one to see the last renewal, one to find it expired), each up to
	// (1 + client-go's JitterFactor 1.2) retry periods: under 15 s.
	assert.LessOrEqual(t, o.leaseDuration+2*o.retryPeriod*22/10, 15*time.Second)
	assert.Greater(t, o.kubeAPIQPS, 5.0, "above client-go's default of 5")
	assert.True(t, o.trimCache)
	assert.Equal(t, 0.9, o.memoryLimitRatio)
}

func TestFlagErrorsNameTheFlagAndValue(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"renew not below lease": {[]string{"--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=5s"}, "--leader-elect-renew-deadline=5s"},
		"zero retry":            {[]string{"--leader-elect-retry-period=0s"}, "--leader-elect-retry-period=0s"},
		"qps":                   {[]string{"--kube-api-qps=0"}, "--kube-api-qps=0"},
		"tick":                  {[]string{"--analysis-tick=100ms"}, "--analysis-tick=100ms"},
		"memory ratio":          {[]string{"--memory-limit-ratio=1.5"}, "--memory-limit-ratio=1.5"},
		"ftp prometheus":        {[]string{"--prometheus-url=ftp://prometheus:9090"}, `--prometheus-url="ftp://prometheus:9090": want an http:// or https:// URL`},
		"relative prometheus":   {[]string{"--prometheus-url=prometheus:9090"}, `--prometheus-url="prometheus:9090"`},
		"router":                {[]string{"--router=envoy"}, `--router="envoy": unknown router "envoy": want one of nginx, traefik`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := parse(t, "--leader-elect=false", "--leader-elect-renew-deadline=1h")
	assert.NoError(t, err, "lease timings do not matter without leader election")
}
