package controller

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// joinErr joins two possibly-nil errors, keeping nil when both are.
func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return errors.Join(a, b)
}

// behindTheCache says whether the API server refused a write because the
// cache it was based on is behind: the Ingress changed since it was read (a
// conflict on its resourceVersion), or the canary Ingress this sync would
// create was created by the previous sync and is not in the cache yet. Under
// load that is routine, not worth an error in the log: the retry reads the
// newer cache.
func behindTheCache(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}
