package annotations

import (
	"regexp"
	"strings"
)

// ingress-nginx (with --enable-annotation-validation, the default in its
// recent releases) drops a canary annotation whose value has characters
// outside a fixed set, silently: testers would then not be routed. These are its sets for the
// routing keys, so that such a value is refused here, by name, instead.
var (
	// nginxBasicChars is its set for canary-by-header, -by-header-value and
	// -by-cookie, checked after it removes spaces.
	nginxBasicChars = regexp.MustCompile(`^[-._~a-zA-Z0-9/:]*$`)
	// nginxRegexChars is its set for canary-by-header-pattern: the basic set
	// plus regular-expression syntax; spaces are not removed.
	nginxRegexChars = regexp.MustCompile(`^[-._~a-zA-Z0-9/:^$\[\](){}*+?|&=\\]*$`)
)

const (
	nginxBasicHint = "only letters, digits and - . _ ~ / : (ingress-nginx drops any other value without a word, so testers would not be routed)"
	nginxRegexHint = "only letters, digits, - . _ ~ / : and the regular-expression characters ^ $ [ ] ( ) { } * + ? | & = \\ (ingress-nginx drops any other value without a word)"
)

// checkNginxValues refuses routing values that ingress-nginx would drop once
// rendered onto the canary Ingress. A key already refused is not reported twice.
func (p *parser) checkNginxValues(r Routing) {
	check := func(key, value string, allowed *regexp.Regexp, hint string) {
		if !allowed.MatchString(value) && !p.failed(key) {
			p.fail(key, value, hint)
		}
	}
	check(KeyHeader, strings.ReplaceAll(r.Header, " ", ""), nginxBasicChars, nginxBasicHint)
	check(KeyHeaderValue, strings.ReplaceAll(r.HeaderValue, " ", ""), nginxBasicChars, nginxBasicHint)
	check(KeyCookie, strings.ReplaceAll(r.Cookie, " ", ""), nginxBasicChars, nginxBasicHint)
	check(KeyHeaderPattern, r.HeaderPattern, nginxRegexChars, nginxRegexHint)
}

// failed reports whether key was already refused.
func (p *parser) failed(key string) bool {
	for _, e := range p.errs {
		if ae, ok := e.(*Error); ok && ae.Key == key {
			return true
		}
	}
	return false
}
