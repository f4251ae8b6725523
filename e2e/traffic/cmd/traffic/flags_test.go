package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--url", "http://127.0.0.1:18080/", "--host", "demo.local",
		"--header", "X-Canary: always", "--header", "X-Trace:a:b",
		"--cookie", "canary=always", "--rps", "50", "--concurrency", "8",
		"--max-requests", "100", "--max-duration", "1m", "--timeout", "2s",
	})
	require.NoError(t, err)
	assert.Equal(t, traffic.Config{
		URL: "http://127.0.0.1:18080/", Host: "demo.local",
		Header:  http.Header{"X-Canary": {"always"}, "X-Trace": {"a:b"}},
		Cookies: []*http.Cookie{{Name: "canary", Value: "always"}},
		RPS:     50, Concurrency: 8, MaxRequests: 100, MaxDuration: time.Minute, Timeout: 2 * time.Second,
	}, cfg)
}

func TestParseFlagsDefaultsAreBounded(t *testing.T) {
	cfg, err := parseFlags([]string{"--url", "http://127.0.0.1:18080/"})
	require.NoError(t, err)
	_, err = traffic.New(cfg)
	assert.NoError(t, err)
}

func TestParseFlagsRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"header without colon":  {"--header", "X-Canary"},
		"header without name":   {"--header", ":always"},
		"host as a header":      {"--header", "host:demo.local"},
		"cookie without =":      {"--cookie", "canary"},
		"cookie bad name":       {"--cookie", "can ary=x"},
		"rps not a number":      {"--rps", "fast"},
		"duration without unit": {"--max-duration", "30"},
		"stray argument":        {"--url", "http://127.0.0.1:1/", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args)
			assert.Error(t, err)
		})
	}
}
