package traffic

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validConfig() Config {
	return Config{URL: "http://127.0.0.1:1/", RPS: 10, MaxRequests: 10, MaxDuration: time.Second}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"no max requests", func(c *Config) { c.MaxRequests = 0 }, "MaxRequests 0"},
		{"negative max requests", func(c *Config) { c.MaxRequests = -1 }, "MaxRequests -1"},
		{"no max duration", func(c *Config) { c.MaxDuration = 0 }, "MaxDuration 0s"},
		{"negative max duration", func(c *Config) { c.MaxDuration = -time.Second }, "MaxDuration -1s"},
		{"no rate", func(c *Config) { c.RPS = 0 }, "RPS 0"},
		{"NaN rate", func(c *Config) { c.RPS = math.NaN() }, "RPS NaN"},
		{"negative concurrency", func(c *Config) { c.Concurrency = -2 }, "Concurrency -2"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout -1s"},
		{"empty URL", func(c *Config) { c.URL = "" }, `URL ""`},
		{"relative URL", func(c *Config) { c.URL = "/path" }, `URL "/path"`},
		{"other scheme", func(c *Config) { c.URL = "ftp://127.0.0.1/" }, `URL "ftp://127.0.0.1/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.change(&cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestNewFillsDefaults(t *testing.T) {
	g, err := New(validConfig())
	require.NoError(t, err)
	assert.Equal(t, DefaultConcurrency, g.cfg.Concurrency)
	assert.Equal(t, DefaultTimeout, g.cfg.Timeout)
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := New(Config{URL: "x"})
	require.Error(t, err)
	for _, field := range []string{"URL", "RPS", "MaxRequests", "MaxDuration"} {
		assert.Contains(t, err.Error(), field)
	}
}
