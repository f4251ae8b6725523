// Package dns replaces lego's DNS-01 provider registry in the e2e build of
// Traefik: seven of the provider modules it imports are refused by the module
// proxy, and the e2e tests never use ACME.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName always fails: this build has no DNS providers.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS challenge provider %q: not built into this e2e Traefik (no lego DNS providers)", name)
}
