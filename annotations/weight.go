package annotations

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// WeightTotal is the canary-weight-total written with every weight. ingress-nginx
// ignores a total of 100 or less, and 10000 makes every step with up to two decimals
// of a percent exact (0.5 % is 50 of 10000).
const WeightTotal = 10000

// Weight is a share of traffic in hundredths of a percent: 10000 is 100 %.
type Weight int

// Full is 100 % of the traffic.
const Full Weight = WeightTotal

// ParsePercent reads "25", "0.5" or "12.75" (percent, at most two decimals).
func ParsePercent(s string) (Weight, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return 0, fmt.Errorf("empty weight")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 2 {
		return 0, fmt.Errorf("weight %q has more than two decimals", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("weight %q is not a number", s)
	}
	return Weight(math.Round(f * 100)), nil
}

// String renders the weight as a percent without trailing zeros: "0.5", "10", "100".
func (w Weight) String() string {
	return strconv.FormatFloat(float64(w)/100, 'f', -1, 64)
}

// Ratio is the weight as a fraction of all traffic, 0..1.
func (w Weight) Ratio() float64 { return float64(w) / WeightTotal }
