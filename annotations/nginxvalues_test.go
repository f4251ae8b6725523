package annotations

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoutingValuesIngressNginxWouldDrop(t *testing.T) {
	base := map[string]string{KeyCanaryService: "web-v2", KeyHeader: "X-Canary"}
	cases := []struct {
		key, value string
		want       string // "" means accepted
	}{
		{KeyHeaderValue, "alice@example.com", "only letters, digits and - . _ ~ / :"},
		{KeyHeaderValue, "tester-1.eu_west:a/b~c", ""},
		{KeyHeaderValue, "two words", ""}, // ingress-nginx removes spaces before it checks
		{KeyHeaderPattern, "^(alice|bob)[0-9]+$", ""},
		{KeyHeaderPattern, "^alice@.*$", "regular-expression characters"},
		{KeyHeaderPattern, "a b", "regular-expression characters"},
		{KeyCookie, "canary_v2", ""},
		{KeyCookie, "canary!", "only letters, digits and - . _ ~ / :"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			ann := map[string]string{}
			for k, v := range base {
				ann[k] = v
			}
			ann[tc.key] = tc.value
			_, err := Parse(ann)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			errs := AsErrors(err)
			require.Len(t, errs, 1, "one problem per key")
			assert.Equal(t, tc.key, errs[0].Key)
			assert.Equal(t, tc.value, errs[0].Value)
			assert.Contains(t, errs[0].Expected, tc.want)
		})
	}
}

func TestRoutingHeaderRefusedOnce(t *testing.T) {
	_, err := Parse(map[string]string{KeyCanaryService: "web-v2", KeyHeader: "X@Canary"})
	errs := AsErrors(err)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Expected, "an HTTP header name")
}
