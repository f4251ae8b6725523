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
