package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestVerifySplit(t *testing.T) {
	pass := func(canary, stable float64) Verdict {
		return Verdict{Outcome: Pass, Measurement: Measurement{Canary: Side{Requests: canary}, Stable: Side{Requests: stable}}}
	}
	assert.Equal(t, Pass, VerifySplit(pass(95, 905), 0, 0.10, time.Minute).Outcome, "within chance")
	assert.Equal(t, Pass, VerifySplit(pass(300, 700), 0, 0.10, time.Minute).Outcome, "testers may raise the share")
	got := VerifySplit(pass(0, 1000), 0, 0.10, time.Minute)
	assert.Equal(t, Mismatch, got.Outcome)
	assert.Contains(t, got.Reason, "0.00% of 1000 requests")
	assert.Equal(t, Pass, VerifySplit(pass(0, 1000), 0, 0, time.Minute).Outcome, "blue-green preview at 0 %")
	assert.Equal(t, Fail, VerifySplit(Verdict{Outcome: Fail}, 0, 0.1, time.Minute).Outcome, "a failure stays a failure")
	quiet := pass(0, 3)
	quiet.Outcome = NoData
	assert.Equal(t, NoData, VerifySplit(quiet, 0, 0.1, time.Minute).Outcome, "too few requests to tell")
	// The demo's case: 38.4 % of 656 requests in an 8 s window that moved from 25 %
	// to 50 %: nginx applied the new weight late, which is no mismatch.
	assert.Equal(t, Pass, VerifySplit(pass(252, 404), 0.25, 0.50, 8*time.Second).Outcome)
	assert.Equal(t, Mismatch, VerifySplit(pass(0, 656), 0.25, 0.50, 8*time.Second).Outcome)
	ignored := pass(0, 1000)
	ignored.Outcome = NoData
	assert.Equal(t, Mismatch, VerifySplit(ignored, 0, 0.1, time.Minute).Outcome, "no canary data because nginx ignores it")
}
