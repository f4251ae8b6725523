package prom

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// anyOf is a PromQL string literal holding a regular expression that matches
// exactly the given values. It is how label values from Kubernetes objects
// enter a query: each value is regexp.QuoteMeta'd and the whole is quoted as a
// PromQL (Go) string, so that no value can end the string, add a matcher, or
// match more than itself. A value that is not valid UTF-8 cannot be a label
// value and is left out: in a pattern it would make Prometheus refuse the
// whole query, every rollout's with it. prefix and suffix are regular
// expressions around the alternation. Without them the pattern is a bare
// alternation of literals, which Prometheus looks up as a set instead of
// matching the regular expression against every value of the label.
//
// With none left, the pattern matches nothing a label can hold, rather than the
// empty value that series lacking the label have.
func anyOf(prefix string, values []string, suffix string) string {
	quoted := make([]string, 0, len(values))
	for _, v := range values {
		if utf8.ValidString(v) {
			quoted = append(quoted, regexp.QuoteMeta(v))
		}
	}
	if len(quoted) == 0 {
		return strconv.Quote(`.^`)
	}
	slices.Sort(quoted)
	quoted = slices.Compact(quoted)
	alternation := strings.Join(quoted, "|")
	if prefix == "" && suffix == "" {
		return strconv.Quote(alternation)
	}
	return strconv.Quote(prefix + "(?:" + alternation + ")" + suffix)
}

// selector is a series selector's braces with the given matchers; the empty
// ones are left out, and so are the braces when none is left.
func selector(matchers ...string) string {
	kept := slices.DeleteFunc(slices.Clone(matchers), func(m string) bool { return m == "" })
	if len(kept) == 0 {
		return ""
	}
	return "{" + strings.Join(kept, ",") + "}"
}

// scopes and names are the two halves of groups, for matchers.
func scopes(gs []group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.scope
	}
	return out
}

func names(gs []group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.name
	}
	return out
}
