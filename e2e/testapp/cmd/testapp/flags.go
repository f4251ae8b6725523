package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type options struct {
	admin string
	serve serveFlags
}

// serveSpec is one --serve NAME=ADDR.
type serveSpec struct {
	name, addr string
}

// serveFlags collects repeated --serve flags.
type serveFlags []serveSpec

func (f *serveFlags) String() string {
	parts := make([]string, 0, len(*f))
	for _, s := range *f {
		parts = append(parts, s.name+"="+s.addr)
	}
	return strings.Join(parts, ",")
}

func (f *serveFlags) Set(value string) error {
	name, addr, ok := strings.Cut(value, "=")
	if !ok || name == "" || addr == "" {
		return fmt.Errorf("%q: want NAME=ADDR, e.g. web-v1=127.0.0.1:8081", value)
	}
	*f = append(*f, serveSpec{name: name, addr: addr})
	return nil
}

func parseFlags(args []string) (options, error) {
	var opts options
	fs := flag.NewFlagSet("testapp", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports the error once, with the usage hint below
	fs.StringVar(&opts.admin, "admin", "", "admin API address, e.g. 127.0.0.1:9000 (required)")
	fs.Var(&opts.serve, "serve", "NAME=ADDR of a version to serve; repeat for more")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return opts, fmt.Errorf("%w (usage: testapp --admin ADDR --serve NAME=ADDR ...)", err)
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if opts.admin == "" {
		return opts, errors.New("--admin ADDR is required")
	}
	return opts, nil
}
