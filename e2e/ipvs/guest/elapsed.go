package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// elapsed runs argv with its output on stderr and prints the wall time it
// took, in microseconds, on out. The exit code is the command's.
func elapsed(argv []string, out io.Writer) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	err := cmd.Run()
	fmt.Fprintln(out, time.Since(start).Microseconds())
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "kpguest elapsed: %v\n", err)
	return 127
}
