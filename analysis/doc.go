// Package analysis turns what a canary and its stable side served during one
// step window into a verdict. It is pure: no I/O, no clock. Package
// analysis/prom reads the figures from Prometheus.
//
// # Verdicts
//
// Judge (judge.go) is pure: it compares a Measurement with Thresholds and returns
// a Verdict (Pass, Fail, NoData). prom.Analyzer.Analyze adds Unavailable for the case
// where Prometheus could not be asked, and VerifySplit (split.go) adds Mismatch
// when nginx did not split traffic as asked. NoData, Unavailable and Mismatch
// never pass: the caller holds the step.
package analysis
