package annotations

import (
	"testing"
)

// FuzzParse checks that no input panics, that a returned Spec always satisfies the
// invariants the state machine relies on, and that every error names a key.
func FuzzParse(f *testing.F) {
	seeds := [][4]string{
		{"web-v2", "5,10,25,50", "1m", "1%"},
		{"web-v2", "0.5,1,5", "30s", "0.01"},
		{"web-v2", "100", "1s", "0"},
		{"Web_V2", "5,3", "ten", "150%"},
		{"web-v2", "", "", ""},
		{"web-v2", "1e2", "1h", "NaN"},
		{"web-v2", "0.001,0.002", "-5s", "1e-3%"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, service, steps, interval, errRate string) {
		spec, err := Parse(map[string]string{
			KeyCanaryService: service, KeySteps: steps, KeyInterval: interval, KeyMaxErrorRate: errRate,
			KeyLatencyQuantile: errRate, KeyHeader: service, KeyCookie: steps, KeyCanaryPort: interval,
		})
		if err != nil {
			if spec != nil {
				t.Fatalf("spec returned with error %v", err)
			}
			for _, e := range AsErrors(err) {
				if e.Key == "" {
					t.Fatalf("error without key: %v", e)
				}
			}
			if len(AsErrors(err)) == 0 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(spec.Steps) == 0 || spec.Interval < MinInterval {
			t.Fatalf("invalid spec accepted: %+v", spec)
		}
		for i, w := range spec.Steps {
			if w <= 0 || w > Full || (i > 0 && w <= spec.Steps[i-1]) {
				t.Fatalf("bad steps accepted: %v from %q", spec.Steps, steps)
			}
		}
		if r := spec.Analysis.MaxErrorRate; r < 0 || r > 1 {
			t.Fatalf("bad ratio %v from %q", r, errRate)
		}
	})
}
