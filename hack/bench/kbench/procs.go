package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a program the RSS measurement runs, its output in a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when it exited
	err  error
}

// launch runs argv, with env added to its environment, its stderr (and stdout
// unless lines is set) into logPath. When lines is set, it receives each stdout
// line.
func launch(name, logPath string, lines chan<- string, env []string, argv ...string) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &process{name: name, cmd: exec.Command(argv[0], argv[1:]...), log: log, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = log
	p.cmd.Stdout = log
	var stdout *os.File
	if lines != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		p.cmd.Stdout, stdout = w, r
		defer w.Close()
	}
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if stdout != nil {
		go func() {
			defer stdout.Close()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				fmt.Fprintln(log, sc.Text())
				select {
				case lines <- sc.Text():
				default:
				}
			}
		}()
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after grace, and waits for the end.
func (p *process) stop(grace time.Duration) {
	defer p.log.Close()
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitLine waits for a stdout line starting with prefix and returns the rest.
func (p *process) waitLine(lines <-chan string, prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l := <-lines:
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return strings.TrimSpace(rest), nil
			}
		case <-p.done:
			return "", fmt.Errorf("%s exited (%v); see %s", p.name, p.err, p.log.Name())
		case <-deadline:
			return "", fmt.Errorf("%s: no %q line after %v; see %s", p.name, prefix, timeout, p.log.Name())
		}
	}
}

// memory returns the process's memory from /proc/<pid>/status, in bytes, by
// field: VmRSS (resident now), VmHWM (its peak), RssAnon (heap, stacks) and
// RssFile (the binary's pages).
func (p *process) memory() (map[string]int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		switch {
		case !ok:
			continue
		case key == "VmRSS", key == "VmHWM", key == "RssAnon", key == "RssFile":
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", key, val, err)
		}
		out[key] = kb << 10
	}
	if out["VmRSS"] == 0 {
		return nil, errors.New("no VmRSS in /proc status")
	}
	return out, nil
}
