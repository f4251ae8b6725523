package controller

import "errors"

// joinErr joins two possibly-nil errors, keeping nil when both are.
func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return errors.Join(a, b)
}
