package annotations

import (
	"errors"
	"fmt"
)

// Error is a rejected annotation. Its message names the key, the value and what was
// expected, and is used verbatim as the Warning Event and the status message.
type Error struct {
	Key      string
	Value    string
	Expected string
}

func (e *Error) Error() string {
	return fmt.Sprintf("annotation %s=%q is invalid: %s", e.Key, e.Value, e.Expected)
}

// AsErrors returns every *Error inside err (which may be joined), in order.
func AsErrors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var one *Error
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		if errors.As(err, &one) {
			out = append(out, one)
		}
	}
	walk(err)
	return out
}
