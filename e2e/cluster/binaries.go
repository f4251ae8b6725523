package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Binaries are the executables and files the cluster runs. e2e/setup/setup.sh
// writes them to CacheDir()/manifest.env; an environment variable of the same
// name overrides an entry (e.g. KUBE_APISERVER_BIN=/path/to/kube-apiserver).
type Binaries struct {
	KubeAPIServer         string // KUBE_APISERVER_BIN
	KubeControllerManager string // KUBE_CONTROLLER_MANAGER_BIN
	Etcd                  string // ETCD_BIN
	IngressNginx          string // INGRESS_NGINX_BIN
	NginxPayload          string // NGINX_PAYLOAD: the prepared /etc/nginx contents
	Nginx                 string // NGINX_BIN
	Prometheus            string // PROMETHEUS_BIN
	TestApp               string // TESTAPP_BIN; empty: built from e2e/testapp/cmd/testapp at Start
	// Only checked by Start when Options ask for Traefik, so that a cache set
	// up before Traefik existed still serves the suites that do not use it.
	Traefik        string // TRAEFIK_BIN
	GatewayAPICRDs string // GATEWAY_API_CRDS: sigs.k8s.io/gateway-api's config/crd/standard in the module cache

	// The node's parts, needed only with Options.Node.
	Kubectl       string // KUBECTL_BIN, for kubectl apply -k
	Kubelet       string // KUBELET_BIN
	KubeScheduler string // KUBE_SCHEDULER_BIN
	Containerd    string // CONTAINERD_BIN (Debian's containerd, with its runc)
	Ctr           string // CTR_BIN
	CNIPlugins    string // CNI_BIN_DIR (Debian's containernetworking-plugins)
	PauseImage    string // PAUSE_IMAGE: the sandbox image's tarball (e2e/image)
}

// CacheDir is where setup.sh keeps binaries and the nginx payload: outside the
// checkout, because CI starts from a fresh clone and the builds take minutes.
// Keep in step with e2e/setup/versions.sh.
func CacheDir() string {
	if d := os.Getenv("INGRESS_CANARY_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "/root"
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "ingress-canary")
}

// LoadBinaries reads the manifest written by setup.sh, applies environment
// overrides and checks that every file exists, so a missing setup fails with
// one clear message instead of a component's obscure one.
func LoadBinaries() (Binaries, error) {
	manifest := filepath.Join(CacheDir(), "manifest.env")
	vals, err := readEnvFile(manifest)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Binaries{}, err
	}
	get := func(key string) string {
		if v := os.Getenv(key); v != "" {
			return v
		}
		return vals[key]
	}
	b := Binaries{
		KubeAPIServer:         get("KUBE_APISERVER_BIN"),
		KubeControllerManager: get("KUBE_CONTROLLER_MANAGER_BIN"),
		Etcd:                  get("ETCD_BIN"),
		IngressNginx:          get("INGRESS_NGINX_BIN"),
		NginxPayload:          get("NGINX_PAYLOAD"),
		Nginx:                 get("NGINX_BIN"),
		Prometheus:            get("PROMETHEUS_BIN"),
		TestApp:               os.Getenv("TESTAPP_BIN"),
		Traefik:               get("TRAEFIK_BIN"),
		GatewayAPICRDs:        get("GATEWAY_API_CRDS"),
		Kubectl:               get("KUBECTL_BIN"),
		Kubelet:               get("KUBELET_BIN"),
		KubeScheduler:         get("KUBE_SCHEDULER_BIN"),
		Containerd:            get("CONTAINERD_BIN"),
		Ctr:                   get("CTR_BIN"),
		CNIPlugins:            get("CNI_BIN_DIR"),
		PauseImage:            get("PAUSE_IMAGE"),
	}
	// A manifest written by a setup.sh older than the traefik step lacks
	// these; setup.sh's own paths are the answer then.
	if b.Traefik == "" {
		b.Traefik = filepath.Join(CacheDir(), "bin", "traefik-"+TraefikVersion)
	}
	if b.GatewayAPICRDs == "" {
		b.GatewayAPICRDs = filepath.Join(goModCache(), "sigs.k8s.io", "gateway-api@"+GatewayAPIVersion, "config", "crd", "standard")
	}
	b.nodeDefaults()
	return b, checkFiles(map[string]string{
		"KUBE_APISERVER_BIN": b.KubeAPIServer, "KUBE_CONTROLLER_MANAGER_BIN": b.KubeControllerManager,
		"ETCD_BIN": b.Etcd, "INGRESS_NGINX_BIN": b.IngressNginx, "NGINX_PAYLOAD": b.NginxPayload,
		"NGINX_BIN": b.Nginx, "PROMETHEUS_BIN": b.Prometheus,
	})
}

// nodeDefaults fills in the node's parts that a manifest written by an older
// setup.sh lacks, from where setup.sh puts them: the kubelet and
// kube-scheduler beside kube-apiserver (same version), Debian's containerd,
// ctr and CNI plugins, and the newest pause image in the cache.
func (b *Binaries) nodeDefaults() {
	dir, base := filepath.Split(b.KubeAPIServer)
	if version, ok := strings.CutPrefix(base, "kube-apiserver"); ok && dir != "" {
		if b.Kubelet == "" {
			b.Kubelet = filepath.Join(dir, "kubelet"+version)
		}
		if b.KubeScheduler == "" {
			b.KubeScheduler = filepath.Join(dir, "kube-scheduler"+version)
		}
	}
	for _, f := range []struct {
		path *string
		name string
	}{{&b.Containerd, "containerd"}, {&b.Ctr, "ctr"}} {
		if *f.path == "" {
			*f.path, _ = exec.LookPath(f.name)
		}
	}
	if b.CNIPlugins == "" {
		b.CNIPlugins = "/usr/lib/cni"
	}
	if b.PauseImage == "" {
		var newest time.Time
		matches, _ := filepath.Glob(filepath.Join(CacheDir(), "image", "pause-*.tar"))
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.ModTime().After(newest) {
				b.PauseImage, newest = m, st.ModTime()
			}
		}
	}
}

// checkNode checks the node's parts (Options.Node).
func (b Binaries) checkNode() error {
	return checkFiles(map[string]string{
		"KUBECTL_BIN": b.Kubectl, "KUBELET_BIN": b.Kubelet, "KUBE_SCHEDULER_BIN": b.KubeScheduler, "CONTAINERD_BIN": b.Containerd,
		"CTR_BIN": b.Ctr, "CNI_BIN_DIR": b.CNIPlugins, "PAUSE_IMAGE": b.PauseImage,
	})
}

// checkFiles reports every entry that is unset or names no file, in one error.
func checkFiles(files map[string]string) error {
	var missing []string
	for name, path := range files {
		if path == "" {
			missing = append(missing, name+" (unset)")
		} else if _, err := os.Stat(path); err != nil {
			missing = append(missing, name+"="+path)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("cluster: missing %s; run e2e/setup/setup.sh (make setup) first (manifest: %s)",
			strings.Join(missing, ", "), filepath.Join(CacheDir(), "manifest.env"))
	}
	return nil
}

// goModCache is where the go command keeps modules: GOMODCACHE, else the
// first GOPATH entry's pkg/mod, else ~/go/pkg/mod (the go command's rules).
func goModCache() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "pkg", "mod")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/root"
	}
	return filepath.Join(home, "go", "pkg", "mod")
}

// readEnvFile parses KEY=VALUE lines; # starts a comment.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return vals, sc.Err()
}

// ModuleRoot finds the project's checkout (the directory of the go.mod that
// declares the project module), walking up from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/ingress-canary/ingress-canary\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: not inside the ingress-canary checkout")
		}
		dir = parent
	}
}

// GoBuild builds a main package of the project (e.g. "./e2e/testapp/cmd/testapp")
// into out. Go's temporary files go under tmpDir rather than the host's /tmp.
// The Go build cache makes a repeated build take about a second. Inside the
// sandbox there is no network: modules must already be in the module cache
// (building the test binary on the host put them there), so GOPROXY=off
// turns a missing one into an immediate, clear error.
func GoBuild(ctx context.Context, pkg, out, tmpDir string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOTMPDIR="+tmpDir, "GOWORK=off", "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
