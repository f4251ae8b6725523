package cluster

import (
	"context"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
)

// Versions reports, per testapp version, the requests and errors the backend
// itself counted: the ground truth that traffic through nginx is checked against.
func (c *Cluster) Versions(ctx context.Context) ([]testapp.VersionInfo, error) {
	return c.admin.Versions(ctx)
}

// The Traefik and Gateway API versions e2e/setup/versions.sh pins; keep both
// in step. They name the cache's Traefik binary and the module holding the
// Gateway API CRDs when the manifest does not.
const (
	TraefikVersion    = "v3.7.13"
	GatewayAPIVersion = "v1.6.1"
)
