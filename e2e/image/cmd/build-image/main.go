// Command build-image assembles the ingress-canary controller's OCI image
// from a static binary, without a Docker engine:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags=-s\ -w -o /tmp/ic ./cmd/ingress-canary
//	go -C e2e/image run ./cmd/build-image -binary /tmp/ic \
//	    -ref ghcr.io/ingress-canary/ingress-canary:dev \
//	    -oci-layout ~/.cache/ingress-canary/image/oci -tarball ~/.cache/ingress-canary/image/image.tar
//
// It prints the image's digest and size. The OCI layout is for registries
// (e.g. `crane push` of the layout, or skopeo copy oci:DIR docker://...); the
// tarball is for `ctr images import` and `docker load`.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ingress-canary/ingress-canary/e2e/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build-image:", err)
		os.Exit(1)
	}
}

func run() error {
	in := image.Inputs{}
	var ref, ociDir, tarPath string
	flag.StringVar(&in.Binary, "binary", "", "the static controller binary (required)")
	flag.StringVar(&in.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle to install")
	flag.StringVar(&in.Arch, "arch", runtime.GOARCH, "GOARCH the binary was built for")
	flag.StringVar(&ref, "ref", "ghcr.io/ingress-canary/ingress-canary:dev", "the image reference (name:tag)")
	flag.StringVar(&ociDir, "oci-layout", "", "write an OCI image layout to this directory")
	flag.StringVar(&tarPath, "tarball", "", "write a `docker save` archive to this file")
	pause := flag.Bool("pause", false, "build the local node's sandbox image from a pause binary (e2e/image/cmd/pause) instead")
	flag.Parse()
	if in.Binary == "" || (ociDir == "" && tarPath == "") {
		flag.Usage()
		return fmt.Errorf("need -binary and one of -oci-layout, -tarball")
	}
	in.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		in.Created = time.Unix(sec, 0).UTC()
	}
	spec := image.Controller()
	if *pause {
		spec, in.CACerts = image.Pause(), ""
	}
	img, err := image.Build(spec, in)
	if err != nil {
		return err
	}
	if ociDir != "" {
		if err := image.WriteLayout(ociDir, ref, img); err != nil {
			return err
		}
	}
	if tarPath != "" {
		if err := image.WriteTarball(tarPath, ref, img); err != nil {
			return err
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	size, err := compressedSize(img)
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s %d bytes compressed\n", ref, digest, size)
	return nil
}

// compressedSize is what a registry stores: manifest, config and layers.
func compressedSize(img v1.Image) (int64, error) {
	m, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	c, err := img.RawConfigFile()
	if err != nil {
		return 0, err
	}
	total := int64(len(m) + len(c))
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
