package testharness

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a child process a test started with Start.
type Process struct {
	cmd     *exec.Cmd
	logPath string
	grace   time.Duration
	exited  chan struct{}

	stopOnce sync.Once
	termed   bool
}

// Start starts cmd with its stdout and stderr in the file logPath. When
// the test ends it sends SIGTERM, waits up to grace for the process to
// exit (then kills it), and calls after (when not nil) with whether it
// exited by itself, once the log file is closed. A child built with
// -race does not sleep its second at exit (GORACE atexit_sleep_ms=0).
func Start(tb testing.TB, cmd *exec.Cmd, logPath string, grace time.Duration, after func(exitedOnSIGTERM bool)) *Process {
	tb.Helper()
	cmd.Env = noRaceExitSleep(cmd.Env)
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		tb.Fatal(err)
	}
	p := &Process{cmd: cmd, logPath: logPath, grace: grace, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	tb.Cleanup(func() {
		termed := p.Stop()
		logFile.Close()
		if after != nil {
			after(termed)
		}
	})
	return p
}

// Stop sends SIGTERM, waits up to the grace period for the process to
// exit (then kills it), and says whether it exited by itself. Only the
// first call stops; later ones return what it found.
func (p *Process) Stop() bool {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		p.termed = true
		select {
		case <-p.exited:
		case <-time.After(p.grace):
			p.termed = false
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p.termed
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Log returns what the process wrote so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// LogPath is the file that holds the process's output.
func (p *Process) LogPath() string { return p.logPath }

// noRaceExitSleep returns a copy of env (the process's own when nil)
// with atexit_sleep_ms=0 added to GORACE: a program built with -race
// sleeps a second before it exits, by default, which every stop of a
// child would wait for. GORACE stands in it once, in place of any it had
// (syscall.Exec passes duplicates on, and a program reads the first).
func noRaceExitSleep(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+1)
	gorace := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok {
			gorace = v + " "
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GORACE="+gorace+"atexit_sleep_ms=0")
}
