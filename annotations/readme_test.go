package annotations

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's annotation tables from SpecKeys and CommandKeys")

const readmePath = "../README.md"

// TestReadmeTablesFollowTheKeys keeps the README's annotation reference equal to
// what SpecKeys and CommandKeys declare. After changing a key, run
// go test ./annotations -run Readme -update-readme.
func TestReadmeTablesFollowTheKeys(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(raw)
	for _, table := range []struct{ header, body string }{
		{"| key | meaning | default |\n|---|---|---|\n", specKeysTable()},
		{"| key | effect |\n|---|---|\n", commandKeysTable()},
	} {
		start := strings.Index(readme, table.header)
		require.GreaterOrEqual(t, start, 0, "README.md has no table headed %q", table.header)
		start += len(table.header)
		end := start + strings.Index(readme[start:], "\n\n") + 1
		if *updateReadme {
			readme = readme[:start] + table.body + readme[end:]
			continue
		}
		assert.Equal(t, table.body, readme[start:end], "README.md's table differs from the keys; run with -update-readme")
	}
	if *updateReadme {
		require.NoError(t, os.WriteFile(readmePath, []byte(readme), 0o644))
	}
}

func specKeysTable() string {
	var b strings.Builder
	for _, k := range SpecKeys {
		def := k.Unset
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		b.WriteString("| `" + strings.TrimPrefix(k.Name, Prefix) + "` | " + k.Doc + " | " + def + " |\n")
	}
	return b.String()
}

func commandKeysTable() string {
	var b strings.Builder
	for _, k := range CommandKeys {
		b.WriteString("| `" + strings.TrimPrefix(k.Name, Prefix) + `: "true"` + "` | " + k.Doc + " |\n")
	}
	return b.String()
}

// TestSpecKeysAreComplete checks what the table itself cannot: every key has a
// doc and either a default or words for its absence, and the defaults parse.
func TestSpecKeysAreComplete(t *testing.T) {
	for _, k := range SpecKeys {
		assert.NotEmpty(t, k.Doc, k.Name)
		assert.True(t, (k.Default == "") != (k.Unset == ""), "%s needs exactly one of Default and Unset", k.Name)
	}
	p := parser{}
	p.spec()
	assert.Empty(t, p.errs, "every Default parses")
}
