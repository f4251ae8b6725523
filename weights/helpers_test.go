package weights

import "math"

func nan() float64 { return math.NaN() }

// percent is the status weight written s, e.g. "10"; "" is no weight.
func percent(s string) StatusWeight {
	var w StatusWeight
	if err := w.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return w
}
