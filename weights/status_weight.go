package weights

import (
	"fmt"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// StatusWeight is the canary's weight as the status records it. It has no value
// before a rollout has given it one (phase Idle, or Invalid on a fresh Ingress);
// the JSON then carries "", as the zero Status always has.
type StatusWeight struct {
	value annotations.Weight
	known bool
}

// WeightOf is the status weight w.
func WeightOf(w annotations.Weight) StatusWeight { return StatusWeight{value: w, known: true} }

// Value is the weight, 0 when it has none: no traffic goes to a canary whose
// weight is unknown.
func (w StatusWeight) Value() annotations.Weight { return w.value }

// Known reports whether the weight has a value.
func (w StatusWeight) Known() bool { return w.known }

// String is the weight in percent as the annotation writes it ("0.5", "10",
// "100"), or "" when it has none.
func (w StatusWeight) String() string {
	if !w.known {
		return ""
	}
	return w.value.String()
}

// MarshalText writes String, so that the JSON carries "weight":"10" as always.
func (w StatusWeight) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads a percentage, or "" for no weight.
func (w *StatusWeight) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*w = StatusWeight{}
		return nil
	}
	v, err := annotations.ParsePercent(string(text))
	if err != nil {
		return fmt.Errorf("status weight: %w", err)
	}
	*w = WeightOf(v)
	return nil
}
