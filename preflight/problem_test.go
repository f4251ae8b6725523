package preflight

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestProblemNamesTheFieldNotAnAnnotation(t *testing.T) {
	p := &Problem{Field: "spec.ingressClassName", Value: "traefik", Expected: `ingress class "nginx"`}
	assert.Equal(t, `spec.ingressClassName="traefik": want ingress class "nginx"`, p.Error())
	assert.NotContains(t, p.Error(), "annotation")
}

func TestProblemsAndDescribe(t *testing.T) {
	key := &annotations.Error{Key: annotations.KeyCanaryService, Value: "web-v9", Expected: "an existing Service"}
	field := &Problem{Field: "metadata.name", Value: "web-canary", Expected: "no Ingress of that name"}
	err := errors.Join(key, errors.Join(field, errors.New("not a problem")), fmt.Errorf("wrapped: %w", field))

	got := Problems(err)
	assert.Equal(t, []error{key, field, got[2]}, got)
	assert.Empty(t, Problems(nil))

	tests := []struct {
		name                  string
		err                   error
		about, value, expects string
		ok                    bool
	}{
		{"annotation", key, annotations.KeyCanaryService, "web-v9", "an existing Service", true},
		{"field", field, "metadata.name", "web-canary", "no Ingress of that name", true},
		{"wrapped field", got[2], "metadata.name", "web-canary", "no Ingress of that name", true},
		{"other error", errors.New("boom"), "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			about, value, expected, ok := Describe(tt.err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.about, about)
			assert.Equal(t, tt.value, value)
			assert.Equal(t, tt.expects, expected)
		})
	}
}
