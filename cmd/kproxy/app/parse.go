package app

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

// ErrHelp is returned by Parse when -h or --help was given: print Usage to
// stdout and exit 0.
var ErrHelp = pflag.ErrHelp

// Parse resolves kproxy's command line (args without the program name) into
// validated Options. Flags given explicitly win over the --config file, which
// wins over defaults. The returned error is a single line that names the
// offending flag or config field; for bad flags it ends with a pointer to
// --help. With --version, Parse stops before reading the config file.
func Parse(args []string) (*Options, error) {
	return parse(args, os.Hostname)
}

// parse is Parse with the host name lookup as a seam for tests.
func parse(args []string, hostname func() (string, error)) (*Options, error) {
	o := newDefaultOptions()
	fs := newFlagSet(o)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if o.ShowVersion {
		return o, nil
	}
	if o.ConfigFile != "" {
		cfg, err := LoadConfigFile(o.ConfigFile)
		if err != nil {
			return nil, err
		}
		// Parse the same arguments again on top of the file: only the flags
		// actually given write to their fields.
		o = newDefaultOptions()
		o.Config = *cfg
		fs = newFlagSet(o)
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
	}
	if err := resolve(o, fs, hostname); err != nil {
		return nil, err
	}
	if err := Validate(o); err != nil {
		return nil, err
	}
	return o, nil
}

// newDefaultOptions returns Options holding only defaults.
func newDefaultOptions() *Options {
	return &Options{
		Config:         newDefaultConfig(),
		UDPIdleTimeout: defaultUDPIdleTimeout,
	}
}

// parseFlags parses args into fs, turning pflag's errors into one line.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == pflag.ErrHelp:
		return ErrHelp
	case err != nil:
		return fmt.Errorf("%v (run '%s --help' for usage)", err, programName)
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q: %s takes only flags (run '%s --help' for usage)", fs.Arg(0), programName, programName)
	}
	return nil
}
