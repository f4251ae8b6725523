package annotations

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeDocumentsEveryKey keeps the README's annotation reference in step with
// the parser: a key added here and not documented there fails the build.
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, key := range append(append([]string{}, SpecKeys...), CommandKeys...) {
		short := strings.TrimPrefix(key, Prefix)
		assert.Regexp(t, "(?m)^\\| `"+short+"[`:]", string(readme), "README.md has no table row for %s", key)
	}
}
