package incluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// imageRef is the reference the overlay's Deployment names.
const imageRef = "ghcr.io/ingress-canary/ingress-canary:dev"

var suite struct {
	cluster *cluster.Cluster
	root    string // the checkout
	// imageReport is build-image's line: reference, digest, compressed size.
	imageReport string
}

// TestMain re-executes the test binary inside a fresh sandbox, builds the
// image there from the checkout's source, and starts the cluster with a node
// that has the image.
func TestMain(m *testing.M) {
	if !cluster.InSandbox() {
		os.Exit(cluster.RunInSandbox(m))
	}
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	err := start()
	defer func() {
		// Stop also removes the Pods' cgroups: what it cannot clean up fails the run.
		if suite.cluster != nil {
			if err := suite.cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "incluster: stop:", err)
				code = 1
			}
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "incluster: start:", err)
		return 1
	}
	code = m.Run()
	if code != 0 {
		fmt.Println("incluster: logs:", suite.cluster.Logs())
	}
	return code
}

func start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := cluster.ModuleRoot()
	if err != nil {
		return err
	}
	suite.root = root
	base := filepath.Join(cluster.CacheDir(), "run")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(base, time.Now().Format("20060102-150405-incluster-"))
	if err != nil {
		return err
	}
	tarball, err := buildImage(ctx, root, dir)
	if err != nil {
		return err
	}
	c, err := cluster.Start(ctx, cluster.Options{
		WorkDir: dir, Log: cluster.PrefixWriter(""),
		Node: &cluster.NodeOptions{Images: []string{tarball}},
	})
	suite.cluster = c
	return err
}

// buildImage builds the static controller binary as the Dockerfile does and
// the image from it with e2e/image, as `make image` does, into dir. Inside the
// sandbox there is no network: GOPROXY=off (make setup downloaded the modules).
func buildImage(ctx context.Context, root, dir string) (string, error) {
	t0 := time.Now()
	bin := filepath.Join(dir, "image", "ingress-canary")
	tarball := filepath.Join(dir, "image", "image.tar")
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOTMPDIR="+dir, "CGO_ENABLED=0")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/ingress-canary")
	build.Dir, build.Env = root, env
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	img := exec.CommandContext(ctx, "go", "run", "./cmd/build-image", "-binary", bin, "-ref", imageRef, "-tarball", tarball)
	img.Dir, img.Env = filepath.Join(root, "e2e", "image"), env
	out, err := img.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build-image: %w\n%s", err, out)
	}
	suite.imageReport = string(out)
	fmt.Printf("incluster: image built in %.1fs: %s", time.Since(t0).Seconds(), out)
	return tarball, nil
}
