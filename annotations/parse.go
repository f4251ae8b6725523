package annotations

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	if _, ok := ann[KeyCanaryService]; !ok {
		return nil, nil
	}
	p := parser{ann: ann}
	spec := p.spec()
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return spec, nil
}

// DefaultSpec is the Spec of an Ingress that sets no key but canary-service,
// without the canary Service: every key at its default.
func DefaultSpec() Spec {
	p := parser{}
	return *p.spec()
}

// spec runs every key's parser, in the order of SpecKeys.
func (p *parser) spec() *Spec {
	spec := &Spec{}
	for _, k := range SpecKeys {
		if k.parse != nil {
			k.parse(p, k, spec)
		}
	}
	return spec
}

// ParseCommands reads the command keys. A command is "true" (present) or "false";
// anything else is an error, because a typo must not silently do nothing.
func ParseCommands(ann map[string]string) (Commands, error) {
	p := parser{ann: ann}
	var c Commands
	for _, k := range CommandKeys {
		*k.field(&c) = p.boolean(k.Name)
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

// valueOrDefault returns the trimmed value, or k's Default when the key is not
// set to something; given says which.
func (p *parser) valueOrDefault(k SpecKey) (v string, given bool) {
	if v, ok := p.value(k.Name); ok {
		return v, true
	}
	return k.Default, false
}

// canaryService reads the key that opts an Ingress in; it is absent only when
// DefaultSpec asks.
func (p *parser) canaryService(k SpecKey) string {
	raw, ok := p.ann[k.Name]
	if !ok {
		return ""
	}
	return p.serviceName(k.Name, raw)
}

func (p *parser) serviceName(key, raw string) string {
	v := strings.TrimSpace(raw)
	if msgs := validation.IsDNS1035Label(v); len(msgs) > 0 {
		p.fail(key, raw, "a Service name in the same namespace: "+strings.Join(msgs, "; "))
		return ""
	}
	return v
}

func (p *parser) optionalServiceName(k SpecKey) string {
	if _, ok := p.value(k.Name); !ok {
		return ""
	}
	return p.serviceName(k.Name, p.ann[k.Name])
}

func (p *parser) port(k SpecKey) Port {
	key := k.Name
	v, ok := p.value(key)
	if !ok {
		return Port{}
	}
	if n, err := strconv.Atoi(v); err == nil {
		if len(validation.IsValidPortNum(n)) > 0 {
			p.fail(key, v, "a port number between 1 and 65535, or a port name")
			return Port{}
		}
		return Port{Number: int32(n)}
	}
	if msgs := validation.IsValidPortName(v); len(msgs) > 0 {
		p.fail(key, v, "a port number or a port name: "+strings.Join(msgs, "; "))
		return Port{}
	}
	return Port{Name: v}
}

func (p *parser) oneOf(k SpecKey, allowed ...string) string {
	v, _ := p.valueOrDefault(k)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(k.Name, v, "one of "+strings.Join(allowed, ", "))
	return ""
}

func (p *parser) steps(k SpecKey) []Weight {
	key := k.Name
	v, _ := p.valueOrDefault(k)
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

// duration is 0 when the key is unset and has no Default.
func (p *parser) duration(k SpecKey, min time.Duration) time.Duration {
	v, _ := p.valueOrDefault(k)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		p.fail(k.Name, v, fmt.Sprintf("a Go duration of at least %s, e.g. 30s or 2m", min))
		return 0
	}
	return d
}

// ratio accepts "1%" or "0.01", and 0 (no error is acceptable).
// atLeastInterval reads a duration that may not be shorter than interval.
func (p *parser) atLeastInterval(k SpecKey, interval time.Duration) time.Duration {
	d := p.duration(k, MinInterval)
	if d > 0 && interval > 0 && d < interval {
		v, _ := p.valueOrDefault(k)
		p.fail(k.Name, v, "a duration at least "+KeyInterval+" ("+interval.String()+")")
	}
	return d
}

func (p *parser) ratio(k SpecKey) float64 {
	v, _ := p.valueOrDefault(k)
	f, err := parseRatio(v)
	if err != nil || f > 1 || f < 0 {
		p.fail(k.Name, v, "a ratio between 0 and 1, written 0.01 or 1%")
		return 0
	}
	return f
}

func (p *parser) quantile(k SpecKey) float64 {
	v, _ := p.valueOrDefault(k)
	f, err := parseRatio(v)
	if err != nil || f <= 0 || f >= 1 {
		p.fail(k.Name, v, "a quantile strictly between 0 and 1, written 0.99 or 99%")
		return 0
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

func (p *parser) integer(k SpecKey, min int) int {
	v, _ := p.valueOrDefault(k)
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > 1_000_000_000 {
		p.fail(k.Name, v, fmt.Sprintf("a whole number of at least %d", min))
		return 0
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
	p.checkNginxValues(r)
	return r
}
