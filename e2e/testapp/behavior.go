package testapp

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// ppmScale is the resolution of an error rate: parts per million. Rates are kept
// as integers so that "request n fails" is decided in exact integer arithmetic;
// with float64, 0.29*100 is 28.999999999999996 and a run of 100 requests would
// fail 28 times instead of 29.
const ppmScale = 1_000_000

// Behavior is how a version misbehaves on purpose.
type Behavior struct {
	// ErrorRate is the ratio of requests answered with 500 instead of 200, in [0, 1].
	ErrorRate float64
	// Latency is added before every answer.
	Latency time.Duration
}

// Validate reports a Behavior that cannot be applied, naming the field and value.
func (b Behavior) Validate() error {
	if err := validateErrorRate(b.ErrorRate); err != nil {
		return err
	}
	return validateLatency(b.Latency)
}

func validateErrorRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("errorRate %v: want a ratio between 0 and 1", rate)
	}
	return nil
}

func validateLatency(latency time.Duration) error {
	if latency < 0 {
		return fmt.Errorf("latency %v: want a duration of 0 or more", latency)
	}
	return nil
}

// parseErrorRate reads the errorRate query parameter; the error names parameter and value.
func parseErrorRate(raw string) (float64, error) {
	rate, err := strconv.ParseFloat(raw, 64)
	if err != nil || validateErrorRate(rate) != nil {
		return 0, fmt.Errorf("errorRate %q: want a ratio between 0 and 1, e.g. 0.25", raw)
	}
	return rate, nil
}

// parseLatency reads the latency query parameter; the error names parameter and value.
func parseLatency(raw string) (time.Duration, error) {
	latency, err := time.ParseDuration(raw)
	if err != nil || validateLatency(latency) != nil {
		return 0, fmt.Errorf("latency %q: want a Go duration of 0 or more, e.g. 150ms", raw)
	}
	return latency, nil
}

// toPPM converts a validated rate to parts per million, rounding to the nearest.
func toPPM(rate float64) int64 {
	return int64(math.Round(rate * ppmScale))
}

// failsAt reports whether request n (counting from 1) is an injected error at
// ratePPM. Request n fails when floor(n*rate) > floor((n-1)*rate), which spreads
// failures evenly and makes any window of k requests fail exactly k*rate times
// whenever that is a whole number (0.25 fails exactly 1 in 4).
func failsAt(n, ratePPM int64) bool {
	return n*ratePPM/ppmScale > (n-1)*ratePPM/ppmScale
}
