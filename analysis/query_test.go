package analysis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSince and testUntil make a window of 300.25 s, which rounds up to 301 s.
var (
	testSince = time.Unix(1800000000, 0)
	testUntil = time.Unix(1800000300, 250_000_000)
)

func TestBuildQueries(t *testing.T) {
	target := Target{Namespace: "shop", Ingress: "web", Since: testSince, Until: testUntil}
	pinned := target
	pinned.CanaryUpstream = "shop-web-v2-80"

	tests := []struct {
		name   string
		target Target
		side   side
		q      float64
		want   sideQueries
	}{
		{
			name: "canary, any upstream", target: target, side: canarySide, q: 0.99,
			want: sideQueries{
				Requests: `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary!=""}[301s] @ 1800000300.250))`,
				Errors:   `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary!="",status=~"5.."}[301s] @ 1800000300.250))`,
				Latency:  `histogram_quantile(0.99, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="web",canary!=""}[301s] @ 1800000300.250)))`,
			},
		},
		{
			name: "canary, pinned upstream", target: pinned, side: canarySide, q: 0.5,
			want: sideQueries{
				Requests: `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="shop-web-v2-80"}[301s] @ 1800000300.250))`,
				Errors:   `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="shop-web-v2-80",status=~"5.."}[301s] @ 1800000300.250))`,
				Latency:  `histogram_quantile(0.5, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="web",canary="shop-web-v2-80"}[301s] @ 1800000300.250)))`,
			},
		},
		{
			name: "stable ignores the upstream", target: pinned, side: stableSide, q: 0.999,
			want: sideQueries{
				Requests: `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary=""}[301s] @ 1800000300.250))`,
				Errors:   `sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",status=~"5.."}[301s] @ 1800000300.250))`,
				Latency:  `histogram_quantile(0.999, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="web",canary=""}[301s] @ 1800000300.250)))`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildQueries(tt.target, tt.side, tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBuildQueriesEscapesEveryLabelValue(t *testing.T) {
	target := Target{
		Namespace:      `a"b`,
		Ingress:        `c\d`,
		CanaryUpstream: "e\nf}",
		Since:          testSince,
		Until:          testUntil,
	}
	got, err := buildQueries(target, canarySide, 0.99)
	require.NoError(t, err)
	assert.Equal(t,
		`sum(increase(nginx_ingress_controller_requests{namespace="a\"b",ingress="c\\d",canary="e\nf}"}[301s] @ 1800000300.250))`,
		got.Requests)
	for _, q := range []string{got.Requests, got.Errors, got.Latency} {
		assert.NotContains(t, q, "\n", "a raw newline would end the query")
	}
}

func TestRangeAt(t *testing.T) {
	base := time.Unix(1800000000, 0)
	tests := []struct {
		name  string
		since time.Time
		until time.Time
		want  string
	}{
		{"whole seconds", base, base.Add(60 * time.Second), "[60s] @ 1800000060.000"},
		{"rounds up, never cuts the start off", base, base.Add(60*time.Second + time.Millisecond), "[61s] @ 1800000060.001"},
		{"shorter than a second is one", base, base.Add(10 * time.Millisecond), "[1s] @ 1800000000.010"},
		{"until keeps milliseconds only", base, base.Add(2*time.Second + 999_999_999), "[3s] @ 1800000002.999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rangeAt(tt.since, tt.until))
		})
	}
}

func TestBuildQueriesRejects(t *testing.T) {
	good := Target{Namespace: "shop", Ingress: "web", Since: testSince, Until: testUntil}
	tests := []struct {
		name    string
		mutate  func(*Target)
		q       float64
		wantErr string
	}{
		{"no namespace", func(t *Target) { t.Namespace = "" }, 0.99, "no namespace"},
		{"no ingress", func(t *Target) { t.Ingress = "" }, 0.99, "no ingress"},
		{"no since", func(t *Target) { t.Since = time.Time{} }, 0.99, "needs both"},
		{"no until", func(t *Target) { t.Until = time.Time{} }, 0.99, "needs both"},
		{"empty window", func(t *Target) { t.Until = t.Since }, 0.99, "window is empty"},
		{"reversed window", func(t *Target) { t.Until = t.Since.Add(-time.Second) }, 0.99, "window is empty"},
		{"quantile zero", func(*Target) {}, 0, "not in (0, 1]"},
		{"quantile above one", func(*Target) {}, 1.5, "not in (0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := good
			tt.mutate(&target)
			_, err := buildQueries(target, canarySide, tt.q)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestQuoteLabelValue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "shop-web-v2-80", `"shop-web-v2-80"`},
		{"empty", "", `""`},
		{"quote", `a"b`, `"a\"b"`},
		{"backslash", `a\b`, `"a\\b"`},
		{"trailing backslash would eat the closing quote", `a\`, `"a\\"`},
		{"backslash then quote", `\"`, `"\\\""`},
		{"newline", "a\nb", `"a\nb"`},
		{"carriage return and tab", "a\r\tb", `"a\r\tb"`},
		{"closing brace and comma are inert inside a string", `x"},namespace=~".+`, `"x\"},namespace=~\".+"`},
		{"a whole second query", `"} or vector(1) or up{a="`, `"\"} or vector(1) or up{a=\""`},
		{"backtick and single quote", "a`b'c", "\"a`b'c\""},
		{"NUL and other control bytes", "a\x00b\x7f", `"a\x00b\x7f"`},
		{"printable unicode stays", "grüße", `"grüße"`},
		{"non-printable unicode is escaped", "a\u00a0b\u2028", `"a\u00a0b\u2028"`},
		{"invalid UTF-8 is escaped byte by byte", "a\xffb", `"a\xffb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := quoteLabelValue(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(got)-1, promqlStringEnd(got),
				"the literal must end at its last byte, not earlier")
			back, err := strconv.Unquote(got)
			require.NoError(t, err)
			assert.Equal(t, tt.in, back, "the literal must read back as the value")
		})
	}
}

// FuzzQuoteLabelValue checks the two properties for any input: the literal
// cannot be ended early, and it reads back as the input.
func FuzzQuoteLabelValue(f *testing.F) {
	for _, s := range []string{"", `a"b`, `a\`, "a\nb", "\xff", `"} or vector(1)`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := quoteLabelValue(in)
		if end := promqlStringEnd(got); end != len(got)-1 {
			t.Fatalf("quoteLabelValue(%q) = %s ends at %d of %d", in, got, end, len(got))
		}
		if strings.ContainsAny(got, "\n\r") {
			t.Fatalf("quoteLabelValue(%q) = %s has a raw line break", in, got)
		}
		if back, err := strconv.Unquote(got); err != nil || back != in {
			t.Fatalf("quoteLabelValue(%q) = %s reads back as %q, %v", in, got, back, err)
		}
	})
}

// promqlStringEnd returns the index of the quote that ends the double-quoted
// string starting at s[0], following the rule of PromQL's lexer: a backslash
// escapes the next character, and a raw newline ends the string with an
// error. It returns -1 when the string does not end.
func promqlStringEnd(s string) int {
	if s == "" || s[0] != '"' {
		return -1
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\n':
			return -1
		case '"':
			return i
		}
	}
	return -1
}
