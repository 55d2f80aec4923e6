package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// Config describes one VM.
type Config struct {
	// Kernel to boot; the zero value means the one install.sh extracted.
	Kernel Kernel
	// Files are copied into the guest: guest path -> host path. Dynamically
	// linked ELF programs get their shared libraries copied too.
	Files map[string]string
	// Script is the shell (dash) script /init runs once the machine is up.
	// Its stdout and stderr are the VM's output; the VM powers off when it
	// exits.
	Script string
	// Modules lists kernel modules (names or globs) to load on top of
	// DefaultModules.
	Modules []string
	// Memory is the guest RAM in QEMU's syntax; default "512M".
	Memory string
	// CPUs is the number of virtual CPUs; default 1.
	CPUs int
	// HostForwards maps an address the guest connects to ("10.0.2.100:6443",
	// in QEMU's user network 10.0.2.0/24) to a port on the host's 127.0.0.1.
	// Without forwards the VM has no network card at all; with them it can
	// reach nothing else.
	HostForwards map[string]int
	// Timeout bounds the VM's whole life, boot included; default 3 minutes.
	Timeout time.Duration
	// Dir receives the VM's logs (console.log, output.log, qemu.log); by
	// default a new directory under _output/vm/runs.
	Dir string
	// Name labels the run directory, e.g. a test name.
	Name string
}

// VM is a running (or finished) guest.
type VM struct {
	// Dir holds console.log (kernel and /init), output.log (the script's
	// output between framing lines) and qemu.log (QEMU's own messages).
	Dir string
	// BootTime is the time from starting QEMU to the guest running the
	// script, as the host measured it.
	BootTime time.Duration

	started time.Time
	timeout time.Duration
	ctx     context.Context // ends when the VM must die
	done    chan struct{}   // closed when QEMU exited
	waitErr error           // QEMU's exit status, valid once done is closed
	cancel  context.CancelFunc
}

// Run boots a VM with the default kernel and no extra files, runs script
// and returns its output.
func Run(ctx context.Context, script string) (string, error) {
	return RunConfig(ctx, Config{Script: script})
}

// RunConfig boots a VM for c, waits for its script to finish and returns
// the script's output.
func RunConfig(ctx context.Context, c Config) (string, error) {
	v, err := Boot(ctx, c)
	if err != nil {
		return "", err
	}
	return v.Wait()
}

// Boot starts a VM and returns once the guest is running the script (or
// has failed to get there). The VM is killed when ctx ends or the timeout
// expires; Wait collects its output.
func Boot(ctx context.Context, c Config) (*VM, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	fwds, err := parseForwards(c.HostForwards)
	if err != nil {
		return nil, err
	}
	initrd := filepath.Join(c.Dir, "initrd.img")
	if err := buildInitrd(c, fwds, initrd); err != nil {
		return nil, err
	}
	files := qemuFiles{
		kernel:  c.Kernel.Image,
		initrd:  initrd,
		console: filepath.Join(c.Dir, "console.log"),
		output:  filepath.Join(c.Dir, "output.log"),
	}
	if fileExists(qbootFirmware) {
		files.firmware = qbootFirmware
	}
	v, err := start(ctx, c, files, fwds)
	if err != nil {
		return nil, err
	}
	go func() {
		<-v.done
		os.Remove(initrd)
	}()
	if err := v.waitReady(); err != nil {
		return nil, err
	}
	return v, nil
}

// start launches QEMU and watches it in the background.
func start(ctx context.Context, c Config, f qemuFiles, fwds []forward) (*VM, error) {
	qlog, err := os.Create(filepath.Join(c.Dir, "qemu.log"))
	if err != nil {
		return nil, err
	}
	defer qlog.Close()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	cmd := exec.CommandContext(ctx, qemuBinary, qemuArgs(c, f, fwds)...)
	cmd.Stdout, cmd.Stderr = qlog, qlog
	cmd.WaitDelay = 5 * time.Second
	// A test binary that dies (go test's own timeout) takes QEMU with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	v := &VM{Dir: c.Dir, ctx: ctx, timeout: c.Timeout, done: make(chan struct{}), cancel: cancel}
	v.started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting %s: %w", qemuBinary, err)
	}
	go func() {
		v.waitErr = cmd.Wait()
		cancel()
		close(v.done)
	}()
	return v, nil
}

// withDefaults fills in the zero fields of c.
func (c Config) withDefaults() (Config, error) {
	if c.Kernel.Image == "" || c.Dir == "" {
		dir, err := Dir()
		if err != nil {
			return c, err
		}
		if c.Kernel.Image == "" {
			if c.Kernel, err = FindKernel(dir); err != nil {
				return c, err
			}
		}
		if c.Dir == "" {
			if c.Dir, err = runDir(dir, c.Name); err != nil {
				return c, err
			}
		}
	}
	if c.Memory == "" {
		c.Memory = "512M"
	}
	if c.CPUs == 0 {
		c.CPUs = 1
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Minute
	}
	return c, os.MkdirAll(c.Dir, 0o755)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runDir makes a fresh directory for a VM's logs under dir/runs.
func runDir(dir, name string) (string, error) {
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return "", err
	}
	prefix := time.Now().Format("20060102-150405") + "-"
	if name != "" {
		prefix += unsafeName.ReplaceAllString(name, "_") + "-"
	}
	return os.MkdirTemp(runs, prefix)
}
