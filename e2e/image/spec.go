// Package image builds the ingress-canary controller's OCI image from the
// static binary, without a Docker engine, with go-containerregistry. The image
// declares what the repository's Dockerfile declares (user, entrypoint, ports,
// labels); a test parses the Dockerfile and holds the two together.
package image

// Spec is what the image declares, the same as the Dockerfile's final stage.
type Spec struct {
	// User is USER: distroless's "nonroot", which deploy/deployment.yaml's
	// runAsUser and runAsGroup name too.
	User string
	// Entrypoint is ENTRYPOINT, in exec form.
	Entrypoint []string
	// Ports are EXPOSE: the metrics and the probe ports of the Deployment.
	Ports []string
	// Labels are LABEL.
	Labels map[string]string
}

// UID and GID are the numeric user and group of Controller().User.
const (
	UID = 65532
	GID = 65532
)

// BinaryPath is where the controller binary lives in the image.
const BinaryPath = "/ingress-canary"

// CACertsPath is where the CA bundle lives, as in distroless and Debian: Go's
// crypto/x509 looks there, so an HTTPS Prometheus is trusted.
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// Controller returns the controller image's declaration.
func Controller() Spec {
	return Spec{
		User:       "65532:65532",
		Entrypoint: []string{BinaryPath},
		Ports:      []string{"8080/tcp", "8081/tcp"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "ingress-canary",
			"org.opencontainers.image.description": "Canary releases on ingress-nginx, stepped by Prometheus analysis",
			"org.opencontainers.image.source":      "https://github.com/ingress-canary/ingress-canary",
		},
	}
}

// PauseRef is the sandbox image the local node's containerd is configured
// with (sandbox_image); there is no registry to pull the upstream one from.
const PauseRef = "registry.k8s.io/pause:3.10"

// Pause returns the declaration of the local node's sandbox image
// (e2e/image/cmd/pause), running as upstream's pause does, as 65535.
func Pause() Spec {
	return Spec{User: "65535:65535", Entrypoint: []string{"/pause"}}
}
