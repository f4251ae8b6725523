package cluster

import "fmt"

// PrefixWriter prints each write on standard output as a line that starts
// with the prefix: a test harness's progress (Options.Log), told apart from
// the test's own output.
type PrefixWriter string

func (p PrefixWriter) Write(b []byte) (int, error) {
	fmt.Print(string(p) + string(b))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Println()
	}
	return len(b), nil
}
