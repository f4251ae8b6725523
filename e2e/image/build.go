package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Inputs are the files the image is made of.
type Inputs struct {
	Binary  string // the static controller binary (CGO_ENABLED=0)
	CACerts string // a PEM bundle, e.g. Debian's /etc/ssl/certs/ca-certificates.crt; empty: a pause image
	Arch    string // GOARCH of Binary, e.g. "amd64"
	// Created is the image's creation time and every file's mtime. A fixed
	// value (SOURCE_DATE_EPOCH) makes the same binary give the same digest.
	Created time.Time
}

// Build assembles the image: one layer with the binary, the CA bundle,
// /etc/passwd and /etc/group naming the non-root user, its home and /tmp;
// the config from spec. The media types are OCI's.
func Build(spec Spec, in Inputs) (v1.Image, error) {
	bin, err := os.ReadFile(in.Binary)
	if err != nil {
		return nil, fmt.Errorf("controller binary: %w", err)
	}
	var layerTar []byte
	if in.CACerts == "" {
		layerTar, err = writeTar(in.Created, map[string]entry{spec.Entrypoint[0][1:]: {mode: 0o755, data: bin}})
	} else {
		var certs []byte
		if certs, err = os.ReadFile(in.CACerts); err != nil {
			return nil, fmt.Errorf("CA certificates: %w", err)
		}
		layerTar, err = rootfs(in.Created, bin, certs)
	}
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: in.Created}, CreatedBy: "ingress-canary e2e/image"},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: in.Created}
	cf.OS = "linux"
	cf.Architecture = in.Arch
	cf.Config = config(spec)
	return mutate.ConfigFile(img, cf)
}

func config(spec Spec) v1.Config {
	ports := map[string]struct{}{}
	for _, p := range spec.Ports {
		ports[p] = struct{}{}
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	return v1.Config{
		User:         spec.User,
		Entrypoint:   append([]string(nil), spec.Entrypoint...),
		ExposedPorts: ports,
		Labels:       labels,
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=" + CACertsPath,
		},
		WorkingDir: "/home/nonroot",
	}
}

// entry is one file or directory of the root filesystem.
type entry struct {
	mode     int64
	uid, gid int
	data     []byte // nil for a directory
}

// rootfs writes the layer's tar: the same files distroless/static:nonroot
// has that the controller uses, and nothing else (no shell).
func rootfs(mtime time.Time, bin, certs []byte) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID)
	files := map[string]entry{
		"etc/":           {mode: 0o755},
		"etc/ssl/":       {mode: 0o755},
		"etc/ssl/certs/": {mode: 0o755},
		CACertsPath[1:]:  {mode: 0o644, data: certs},
		"etc/passwd":     {mode: 0o644, data: []byte(passwd)},
		"etc/group":      {mode: 0o644, data: []byte(group)},
		"home/":          {mode: 0o755},
		"home/nonroot/":  {mode: 0o700, uid: UID, gid: GID},
		"tmp/":           {mode: 0o1777},
		BinaryPath[1:]:   {mode: 0o755, data: bin},
	}
	return writeTar(mtime, files)
}

// writeTar writes files in name order, so the same files give the same bytes.
func writeTar(mtime time.Time, files map[string]entry) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := files[n]
		h := &tar.Header{Name: n, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: mtime, Format: tar.FormatPAX}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
