package image

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// finalStage returns the instructions of the Dockerfile's last stage, one
// per logical line (continuations joined, comments dropped), as
// (keyword, arguments) pairs.
func finalStage(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var stage [][2]string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		kw, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		cur.Reset()
		kw = strings.ToUpper(kw)
		if kw == "FROM" {
			stage = nil
		}
		stage = append(stage, [2]string{kw, strings.TrimSpace(args)})
	}
	require.NoError(t, sc.Err())
	return stage
}

// labels parses LABEL's key="value" pairs (values quoted or bare).
func labels(t *testing.T, args string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for args = strings.TrimSpace(args); args != ""; args = strings.TrimSpace(args) {
		key, rest, ok := strings.Cut(args, "=")
		require.True(t, ok, "LABEL %q: want key=value", args)
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			require.GreaterOrEqual(t, end, 0, "LABEL %q: unterminated quote", rest)
			v, err := strconv.Unquote(rest[:end+2])
			require.NoError(t, err)
			val, args = v, rest[end+2:]
		} else {
			val, args, _ = strings.Cut(rest, " ")
		}
		out[key] = val
	}
	return out
}

// dockerfileSpec reads the Spec the Dockerfile's final stage declares.
func dockerfileSpec(t *testing.T, path string) Spec {
	t.Helper()
	spec := Spec{Labels: map[string]string{}}
	for _, in := range finalStage(t, path) {
		switch in[0] {
		case "USER":
			spec.User = in[1]
		case "ENTRYPOINT":
			require.NoError(t, json.Unmarshal([]byte(in[1]), &spec.Entrypoint), "ENTRYPOINT must be in exec form")
		case "EXPOSE":
			for _, p := range strings.Fields(in[1]) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				spec.Ports = append(spec.Ports, p)
			}
		case "LABEL":
			for k, v := range labels(t, in[1]) {
				spec.Labels[k] = v
			}
		}
	}
	return spec
}

func TestImageDeclaresWhatTheDockerfileDeclares(t *testing.T) {
	want := dockerfileSpec(t, "../../Dockerfile")
	require.NotEmpty(t, want.User, "Dockerfile: no USER")
	got := Controller()
	sort.Strings(want.Ports)
	sort.Strings(got.Ports)
	assert.Equal(t, want.User, got.User, "USER")
	assert.Equal(t, want.Entrypoint, got.Entrypoint, "ENTRYPOINT")
	assert.Equal(t, want.Ports, got.Ports, "EXPOSE")
	assert.Equal(t, want.Labels, got.Labels, "LABEL")
	assert.Equal(t, strconv.Itoa(UID)+":"+strconv.Itoa(GID), got.User, "UID and GID name the user")
}

func TestBuildConfigAndFiles(t *testing.T) {
	dir := t.TempDir()
	bin := dir + "/bin"
	require.NoError(t, os.WriteFile(bin, []byte("#!not really a binary"), 0o755))
	certs := dir + "/certs.pem"
	require.NoError(t, os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644))
	in := Inputs{Binary: bin, CACerts: certs, Arch: runtime.GOARCH, Created: time.Unix(0, 0).UTC()}
	img, err := Build(Controller(), in)
	require.NoError(t, err)

	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cf.Config.User)
	assert.Equal(t, []string{"/ingress-canary"}, cf.Config.Entrypoint)
	assert.Contains(t, cf.Config.ExposedPorts, "8080/tcp")
	assert.Contains(t, cf.Config.Env, "SSL_CERT_FILE="+CACertsPath)
	assert.Equal(t, "linux", cf.OS)

	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		files[h.Name] = h
	}
	for _, name := range []string{"ingress-canary", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group", "tmp/", "home/nonroot/"} {
		assert.Contains(t, files, name)
	}
	if h := files["home/nonroot/"]; assert.NotNil(t, h) {
		assert.Equal(t, UID, h.Uid, "the non-root user owns its home")
	}
	assert.Nil(t, files["bin/sh"], "no shell in the image")

	// The same inputs give the same digest: the build is reproducible.
	again, err := Build(Controller(), in)
	require.NoError(t, err)
	d1, err := img.Digest()
	require.NoError(t, err)
	d2, err := again.Digest()
	require.NoError(t, err)
	assert.Equal(t, d1, d2)

	require.NoError(t, WriteLayout(dir+"/oci", "example.test/ic:dev", img))
	require.NoError(t, WriteTarball(dir+"/image.tar", "example.test/ic:dev", img))
	_, err = os.Stat(dir + "/oci/index.json")
	assert.NoError(t, err)
}

func TestBuildPause(t *testing.T) {
	dir := t.TempDir()
	bin := dir + "/pause"
	require.NoError(t, os.WriteFile(bin, []byte("pause"), 0o755))
	img, err := Build(Pause(), Inputs{Binary: bin, Arch: runtime.GOARCH, Created: time.Unix(0, 0).UTC()})
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, []string{"/pause"}, cf.Config.Entrypoint)
	assert.Equal(t, "65535:65535", cf.Config.User)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	h, err := tar.NewReader(rc).Next()
	require.NoError(t, err)
	assert.Equal(t, "pause", h.Name, "the pause image holds the binary only")
}
