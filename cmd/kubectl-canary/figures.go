package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The controller writes -1 for a figure it could not measure (weights.Status.Encode).

func formatRequests(n float64) string {
	if n < 0 || math.IsNaN(n) {
		return "?"
	}
	return strconv.FormatFloat(n, 'f', 0, 64)
}

// formatRatio renders 0.002 as "0.20%".
func formatRatio(r float64) string {
	if r < 0 || math.IsNaN(r) {
		return "?"
	}
	return fmt.Sprintf("%.2f%%", r*100)
}

func formatSeconds(s float64) string {
	if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(s, 'f', 3, 64) + "s"
}

// quantileLabel renders 0.99 as "p99" and 0.995 as "p99.5".
func quantileLabel(q float64) string {
	return "p" + strconv.FormatFloat(math.Round(q*10000)/100, 'f', -1, 64)
}

// formatWeight renders the status weight as a percentage, "" when unknown.
func formatWeight(w weights.StatusWeight) string {
	if !w.Known() {
		return ""
	}
	return w.String() + "%"
}

// summarizeAnalysis is the one-line form of the last verdict, as `list` shows it:
// "Pass 5120 req 0.20% err p99 0.081s". An Unavailable verdict has no figures:
// Prometheus could not be asked, so its zeros would mislead.
func summarizeAnalysis(a *weights.LastAnalysis, quantile float64) string {
	if a == nil {
		return ""
	}
	if a.Outcome == analysis.Unavailable {
		return string(a.Outcome)
	}
	return fmt.Sprintf("%s %s req %s err %s %s", a.Outcome, formatRequests(a.Requests),
		formatRatio(a.ErrorRate), quantileLabel(quantile), formatSeconds(a.LatencySeconds))
}

// age is kubectl's short duration ("45s", "3m12s", "5d") since t, "" for no time.
func age(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(*t))
}
