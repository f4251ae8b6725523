package annotations

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// MinInterval keeps a step window long enough for Prometheus to have scraped it.
const MinInterval = time.Second

// maxSteps bounds the work a single Ingress can ask for.
const maxSteps = 100

// Parse reads the user keys of a primary Ingress. It returns (nil, nil) when
// canary-service is absent: the Ingress has not opted in. Every problem found is
// returned, joined, each as an *Error.
func Parse(ann map[string]string) (*Spec, error) {
	raw, ok := ann[KeyCanaryService]
	if !ok {
		return nil, nil
	}
	p := parser{ann: ann}
	spec := &Spec{
		CanaryService: p.serviceName(KeyCanaryService, raw),
		CanaryPort:    p.port(KeyCanaryPort),
		StableService: p.optionalServiceName(KeyStableService),
		Strategy:      Strategy(p.oneOf(KeyStrategy, string(DefaultStrategy), string(StrategyCanary), string(StrategyBlueGreen))),
		Steps:         p.steps(KeySteps),
		Interval:      p.duration(KeyInterval, DefaultInterval, MinInterval),
		Analysis: Analysis{
			MaxErrorRate:    p.ratio(KeyMaxErrorRate, DefaultMaxErrorRate),
			MaxLatency:      p.duration(KeyMaxLatency, 0, time.Millisecond),
			LatencyQuantile: p.quantile(KeyLatencyQuantile),
			MinRequests:     p.integer(KeyMinRequests, DefaultMinRequests, 1),
			FailureLimit:    p.integer(KeyFailureLimit, DefaultFailureLimit, 0),
			NoDataLimit:     p.integer(KeyNoDataLimit, DefaultNoDataLimit, 0),
		},
		Routing:   p.routing(),
		Promotion: Promotion(p.oneOf(KeyPromotion, string(DefaultPromotion), string(PromotionAuto), string(PromotionManual))),
		PromoteBy: PromoteBy(p.oneOf(KeyPromoteBy, string(DefaultPromoteBy), string(PromoteBySwitch), string(PromoteByWeight))),
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return spec, nil
}

// ParseCommands reads the command keys. A command is "true" (present) or "false";
// anything else is an error, because a typo must not silently do nothing.
func ParseCommands(ann map[string]string) (Commands, error) {
	p := parser{ann: ann}
	c := Commands{
		Pause:   p.boolean(KeyPause),
		Resume:  p.boolean(KeyResume),
		Abort:   p.boolean(KeyAbort),
		Promote: p.boolean(KeyPromote),
		Retry:   p.boolean(KeyRetry),
	}
	return c, errors.Join(p.errs...)
}

// parser collects every error instead of stopping at the first, so that one Event
// tells the user everything that is wrong.
type parser struct {
	ann  map[string]string
	errs []error
}

func (p *parser) fail(key, value, expected string) {
	p.errs = append(p.errs, &Error{Key: key, Value: value, Expected: expected})
}

// value returns the trimmed value and whether the key is set to something.
func (p *parser) value(key string) (string, bool) {
	v, ok := p.ann[key]
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (p *parser) serviceName(key, raw string) string {
	v := strings.TrimSpace(raw)
	if msgs := validation.IsDNS1035Label(v); len(msgs) > 0 {
		p.fail(key, raw, "a Service name in the same namespace: "+strings.Join(msgs, "; "))
		return ""
	}
	return v
}

func (p *parser) optionalServiceName(key string) string {
	if _, ok := p.value(key); !ok {
		return ""
	}
	return p.serviceName(key, p.ann[key])
}

func (p *parser) port(key string) networkingv1.ServiceBackendPort {
	v, ok := p.value(key)
	if !ok {
		return networkingv1.ServiceBackendPort{}
	}
	if n, err := strconv.Atoi(v); err == nil {
		if len(validation.IsValidPortNum(n)) > 0 {
			p.fail(key, v, "a port number between 1 and 65535, or a port name")
			return networkingv1.ServiceBackendPort{}
		}
		return networkingv1.ServiceBackendPort{Number: int32(n)}
	}
	if msgs := validation.IsValidPortName(v); len(msgs) > 0 {
		p.fail(key, v, "a port number or a port name: "+strings.Join(msgs, "; "))
		return networkingv1.ServiceBackendPort{}
	}
	return networkingv1.ServiceBackendPort{Name: v}
}

func (p *parser) oneOf(key, def string, allowed ...string) string {
	v, ok := p.value(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(key, v, "one of "+strings.Join(allowed, ", "))
	return def
}

func (p *parser) steps(key string) []Weight {
	v, ok := p.value(key)
	if !ok {
		return append([]Weight(nil), DefaultSteps...)
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxSteps {
		p.fail(key, v, fmt.Sprintf("at most %d steps", maxSteps))
		return nil
	}
	steps := make([]Weight, 0, len(parts))
	for _, part := range parts {
		w, err := ParsePercent(part)
		switch {
		case err != nil:
			p.fail(key, v, "comma-separated percentages with at most two decimals, e.g. 0.5,5,25,50: "+err.Error())
			return nil
		case w <= 0 || w > Full:
			p.fail(key, v, fmt.Sprintf("every weight in (0, 100], got %s", strings.TrimSpace(part)))
			return nil
		case len(steps) > 0 && w <= steps[len(steps)-1]:
			p.fail(key, v, fmt.Sprintf("strictly increasing weights, got %s after %s", w, steps[len(steps)-1]))
			return nil
		}
		steps = append(steps, w)
	}
	return steps
}

func (p *parser) duration(key string, def, min time.Duration) time.Duration {
	v, ok := p.value(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		p.fail(key, v, fmt.Sprintf("a Go duration of at least %s, e.g. 30s or 2m", min))
		return def
	}
	return d
}

// ratio accepts "1%" or "0.01", and 0 (no error is acceptable).
func (p *parser) ratio(key string, def float64) float64 {
	v, ok := p.value(key)
	if !ok {
		return def
	}
	f, err := parseRatio(v)
	if err != nil || f > 1 || f < 0 {
		p.fail(key, v, "a ratio between 0 and 1, written 0.01 or 1%")
		return def
	}
	return f
}

func (p *parser) quantile(key string) float64 {
	v, ok := p.value(key)
	if !ok {
		return DefaultLatencyQuantile
	}
	f, err := parseRatio(v)
	if err != nil || f <= 0 || f >= 1 {
		p.fail(key, v, "a quantile strictly between 0 and 1, written 0.99 or 99%")
		return DefaultLatencyQuantile
	}
	return f
}

func parseRatio(v string) (float64, error) {
	scale := 1.0
	if strings.HasSuffix(v, "%") {
		v, scale = strings.TrimSpace(strings.TrimSuffix(v, "%")), 100
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f { // f != f rejects NaN
		return 0, fmt.Errorf("not a number")
	}
	return f / scale, nil
}

func (p *parser) integer(key string, def, min int) int {
	v, ok := p.value(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > 1_000_000_000 {
		p.fail(key, v, fmt.Sprintf("a whole number of at least %d", min))
		return def
	}
	return n
}

func (p *parser) boolean(key string) bool {
	v, ok := p.value(key)
	if !ok {
		return false
	}
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail(key, v, `"true" or "false"`)
	return false
}

// cookieName is RFC 6265's token, the same set ingress-nginx passes to nginx.
var cookieName = regexp.MustCompile(`^[!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z]+$`)

func (p *parser) routing() Routing {
	r := Routing{}
	r.Header, _ = p.value(KeyHeader)
	r.HeaderValue, _ = p.value(KeyHeaderValue)
	r.HeaderPattern, _ = p.value(KeyHeaderPattern)
	r.Cookie, _ = p.value(KeyCookie)
	if r.Header != "" && len(validation.IsHTTPHeaderName(r.Header)) > 0 {
		p.fail(KeyHeader, r.Header, "an HTTP header name such as X-Canary")
	}
	if r.Header == "" && (r.HeaderValue != "" || r.HeaderPattern != "") {
		key, val := KeyHeaderValue, r.HeaderValue
		if val == "" {
			key, val = KeyHeaderPattern, r.HeaderPattern
		}
		p.fail(key, val, "also setting "+KeyHeader)
	}
	if r.HeaderValue != "" && r.HeaderPattern != "" {
		p.fail(KeyHeaderPattern, r.HeaderPattern, "either "+KeyHeaderValue+" or "+KeyHeaderPattern+", not both")
	}
	if r.HeaderPattern != "" {
		if _, err := regexp.Compile(r.HeaderPattern); err != nil {
			p.fail(KeyHeaderPattern, r.HeaderPattern, "a regular expression: "+err.Error())
		}
	}
	if r.Cookie != "" && !cookieName.MatchString(r.Cookie) {
		p.fail(KeyCookie, r.Cookie, "a cookie name (letters, digits and !#$%&'*+-.^_`|~)")
	}
	return r
}
