package main

import (
	"flag"
	"fmt"
	"io"
)

// globalOptions are the flags every command takes, named and behaving as kubectl's.
type globalOptions struct {
	kubeconfig    string
	context       string
	namespace     string
	allNamespaces bool
	output        string
}

const (
	outputTable = "table"
	outputJSON  = "json"
)

// shortNames maps a long flag to its one-letter alias, as kubectl spells them.
// Both names are registered on the same variable; help prints them on one line.
var shortNames = map[string]string{
	"namespace":      "n",
	"all-namespaces": "A",
	"output":         "o",
	"watch":          "w",
}

// newFlagSet makes a flag set that reports nothing itself: run prints errors and
// help in one consistent place.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func addGlobalFlags(fs *flag.FlagSet, g *globalOptions) {
	fs.StringVar(&g.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file. Empty: $KUBECONFIG, then ~/.kube/config.")
	fs.StringVar(&g.context, "context", "", "The kubeconfig context to use. Empty: the current context.")
	stringFlag(fs, &g.namespace, "namespace", "", "Namespace of the Ingress. Empty: the context's namespace, else \"default\".")
	boolFlag(fs, &g.allNamespaces, "all-namespaces", false, "List across all namespaces (list only).")
	stringFlag(fs, &g.output, "output", outputTable, "Output format: table or json.")
}

// stringFlag and boolFlag register a flag under its long name and, when it has
// one, its short alias.
func stringFlag(fs *flag.FlagSet, p *string, name, value, usage string) {
	fs.StringVar(p, name, value, usage)
	if short, ok := shortNames[name]; ok {
		fs.StringVar(p, short, value, usage)
	}
}

func boolFlag(fs *flag.FlagSet, p *bool, name string, value bool, usage string) {
	fs.BoolVar(p, name, value, usage)
	if short, ok := shortNames[name]; ok {
		fs.BoolVar(p, short, value, usage)
	}
}

func (g globalOptions) validate(command string) error {
	if g.output != outputTable && g.output != outputJSON {
		return usagef(command, "--output=%q: want table or json", g.output)
	}
	return nil
}

// parseInterspersed parses flags that may appear before, between and after the
// positional arguments (`status web -n shop --watch`), which the standard flag
// package alone does not allow. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, fs.Args()...), nil
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printFlags lists the flags of fs in name order, each with its short alias on
// the same line: "  -n, --namespace string".
func printFlags(w io.Writer, fs *flag.FlagSet) {
	aliases := map[string]bool{}
	for _, short := range shortNames {
		aliases[short] = true
	}
	var lines [][2]string
	fs.VisitAll(func(f *flag.Flag) {
		if aliases[f.Name] && len(f.Name) == 1 {
			return
		}
		kind, usage := flag.UnquoteUsage(f)
		name := "    --" + f.Name
		if short, ok := shortNames[f.Name]; ok && fs.Lookup(short) != nil {
			name = "-" + short + ", --" + f.Name
		}
		if kind != "" {
			name += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		lines = append(lines, [2]string{name, usage})
	})
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
}
