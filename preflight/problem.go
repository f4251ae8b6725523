package preflight

import (
	"errors"
	"fmt"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// Problem is a rejected field of the Ingress that is not an ingress-canary.dev
// annotation (spec.ingressClassName, spec.rules, metadata.name), or another
// Ingress that stands in the way. Its message names the field, the value and
// what was expected, and is used verbatim as the Warning Event and the status
// message; problems with an annotation are *annotations.Error instead.
type Problem struct {
	// Field is what the problem is about, e.g. "spec.ingressClassName" or "Ingress admin".
	Field    string
	Value    string
	Expected string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%s=%q: want %s", p.Field, p.Value, p.Expected)
}

// Problems returns every *annotations.Error and *Problem inside err (which may
// be joined), in order; anything else in it is left out.
func Problems(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	if _, _, _, ok := Describe(err); ok {
		return []error{err}
	}
	return nil
}

// Describe splits a problem into what it is about (an annotation key or
// another field), its value and what was expected; ok is false for any other
// error.
func Describe(err error) (about, value, expected string, ok bool) {
	var a *annotations.Error
	var p *Problem
	switch {
	case errors.As(err, &a):
		return a.Key, a.Value, a.Expected, true
	case errors.As(err, &p):
		return p.Field, p.Value, p.Expected, true
	}
	return "", "", "", false
}
