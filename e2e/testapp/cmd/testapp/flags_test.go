package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"--admin", "127.0.0.1:9000", "--serve", "web-v1=127.0.0.1:8081", "--serve", "web-v2=127.0.0.1:8082"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9000", opts.admin)
	assert.Equal(t, serveFlags{{"web-v1", "127.0.0.1:8081"}, {"web-v2", "127.0.0.1:8082"}}, opts.serve)
}

func TestParseFlagsRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"no admin":        {"--serve", "web-v1=127.0.0.1:8081"},
		"serve without =": {"--admin", "127.0.0.1:9000", "--serve", "web-v1"},
		"serve no addr":   {"--admin", "127.0.0.1:9000", "--serve", "web-v1="},
		"stray argument":  {"--admin", "127.0.0.1:9000", "extra"},
		"unknown flag":    {"--admin", "127.0.0.1:9000", "--nope"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args)
			assert.Error(t, err)
		})
	}
}
