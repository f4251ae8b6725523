package main

import (
	"io"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// globalOptions are the flags every command takes. The connection flags are
// kubectl's own (genericclioptions): --kubeconfig, --context, -n/--namespace,
// --as, --token, --server and the rest behave as they do in kubectl.
type globalOptions struct {
	kube          *genericclioptions.ConfigFlags
	allNamespaces bool
	output        string
}

const (
	outputTable = "table"
	outputJSON  = "json"
)

// namespace is the -n flag's value, "" when not given.
func (g globalOptions) namespace() string { return stringValue(g.kube.Namespace) }

// context is the --context flag's value, "" when not given.
func (g globalOptions) context() string { return stringValue(g.kube.Context) }

func stringValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// newFlagSet makes a flag set that reports nothing itself: run prints errors and
// help in one consistent place. Flags may come before, between and after the
// positional arguments (`status web -n shop --watch`); after "--" everything is
// positional.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func addGlobalFlags(fs *pflag.FlagSet, g *globalOptions) {
	g.kube = genericclioptions.NewConfigFlags(true)
	g.kube.AddFlags(fs)
	fs.BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "List across all namespaces (list only).")
	fs.StringVarP(&g.output, "output", "o", outputTable, "Output format: table or json.")
}

func (g globalOptions) validate(command string) error {
	if g.output != outputTable && g.output != outputJSON {
		return usagef(command, "--output=%q: want table or json", g.output)
	}
	return nil
}

// parseArgs parses the flags wherever they are on the line and returns the
// positional arguments, nil when there are none.
func parseArgs(fs *pflag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() == 0 {
		return nil, nil
	}
	return fs.Args(), nil
}

// printFlags lists the flags of fs in name order, each with its short alias on
// the same line: "  -n, --namespace string".
func printFlags(w io.Writer, fs *pflag.FlagSet) {
	_, _ = io.WriteString(w, fs.FlagUsages())
}
