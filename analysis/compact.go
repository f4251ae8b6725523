package analysis

import (
	"encoding/json"
	"fmt"
)

// The evidence lives in the status annotation for the whole rollout, a few
// numbers per step; written as plain arrays it stays a line or two.

// MarshalJSON writes c as [canaryRequests, canaryEvents, stableRequests, stableEvents].
func (c Counts) MarshalJSON() ([]byte, error) {
	return json.Marshal([4]float64{c.CanaryRequests, c.CanaryEvents, c.StableRequests, c.StableEvents})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var v [4]float64
	if err := unmarshalFour(b, &v, "counts"); err != nil {
		return err
	}
	*c = Counts{CanaryRequests: v[0], CanaryEvents: v[1], StableRequests: v[2], StableEvents: v[3]}
	return nil
}

// MarshalJSON writes d as [intervals, events, requests, squaresPerRequest].
func (d DispersionEstimate) MarshalJSON() ([]byte, error) {
	return json.Marshal([4]float64{d.Intervals, d.Events, d.Requests, d.SquaresPerRequest})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *DispersionEstimate) UnmarshalJSON(b []byte) error {
	var v [4]float64
	if err := unmarshalFour(b, &v, "dispersion"); err != nil {
		return err
	}
	*d = DispersionEstimate{Intervals: v[0], Events: v[1], Requests: v[2], SquaresPerRequest: v[3]}
	return nil
}

func unmarshalFour(b []byte, v *[4]float64, what string) error {
	var raw []float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(raw) != len(v) {
		return fmt.Errorf("%s: want %d numbers, got %d", what, len(v), len(raw))
	}
	copy(v[:], raw)
	return nil
}
