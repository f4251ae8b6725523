package weights

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// TestIgnoredCommandsAreReportedInOrder runs the same Decide many times: the
// CommandIgnored Events must come in one order, that of annotations.CommandKeys.
func TestIgnoredCommandsAreReportedInOrder(t *testing.T) {
	spec, err := annotations.Parse(map[string]string{annotations.KeyCanaryService: "web-v2"})
	assert.NoError(t, err)
	in := Input{
		Spec: spec, StableService: "web-v1", CanaryReady: true, Now: time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC),
		Status:   Status{Phase: PhaseFailed, Revision: "web-v2", Step: 2, Weight: percent("0")},
		Commands: annotations.Commands{Pause: true, Resume: true, Promote: true},
	}
	want := []string{
		annotations.KeyPause + " ignored: it does not apply in phase Failed",
		annotations.KeyResume + " ignored: it does not apply in phase Failed",
		annotations.KeyPromote + " ignored: it does not apply in phase Failed",
	}
	for range 20 {
		var got []string
		for _, e := range Decide(DefaultConfig, in).Events {
			got = append(got, e.Message)
		}
		assert.Equal(t, want, got)
	}
}

// TestCommandIgnored is the rule the machine acts by and kubectl canary warns by.
func TestCommandIgnored(t *testing.T) {
	progressing := Status{Phase: PhaseProgressing}
	paused := Status{Phase: PhasePaused}
	awaiting := Status{Phase: PhasePaused, AwaitingPromotion: true}
	switched := Status{Phase: PhasePromoting, Stage: StageSwitched}
	failed := Status{Phase: PhaseFailed}
	tests := []struct {
		verb    string
		status  Status
		applies bool
	}{
		{"pause", progressing, true}, {"pause", paused, false},
		{"resume", paused, true}, {"resume", awaiting, false}, {"resume", progressing, false},
		{"abort", progressing, true}, {"abort", Status{Phase: PhasePromoting}, true}, {"abort", switched, false}, {"abort", failed, false},
		{"promote", progressing, true}, {"promote", awaiting, true}, {"promote", failed, false},
		{"retry", failed, true}, {"retry", Status{}, false},
	}
	for _, tt := range tests {
		why := CommandIgnored(annotations.Prefix+tt.verb, tt.status)
		assert.Equal(t, tt.applies, why == "", "%s in %+v: %q", tt.verb, tt.status, why)
	}
	assert.Contains(t, CommandIgnored(annotations.KeyResume, awaiting), "use promote")
	assert.Contains(t, CommandIgnored(annotations.KeyAbort, switched), "too late")
}
