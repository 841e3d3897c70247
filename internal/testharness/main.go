package testharness

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Main is the TestMain of a test package that needs no setup of its own:
//
//	func TestMain(m *testing.M) { testharness.Main(m) }
//
// It runs the tests after QuickExit.
func Main(m *testing.M) {
	QuickExit()
	os.Exit(m.Run())
}

// QuickExit makes a test binary built with -race exit without the race
// runtime's sleep: such a binary sleeps a second before it exits (GORACE
// atexit_sleep_ms, 1000 by default), which, over the thirty test packages
// of `go test -race ./...` that run two at a time, is a quarter of a
// minute of waiting. Unless GORACE already sets atexit_sleep_ms, it
// executes the test binary again, once, in place of this process (same
// arguments, same pid, same output), with atexit_sleep_ms=0 added to
// GORACE; the race runtime reads GORACE only when the process starts. Call
// it first in TestMain, before anything starts; without -race it does
// nothing.
func QuickExit() {
	if !RaceEnabled || strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return // the tests run, and sleep their second at exit
	}
	// Exec returns only if it failed: then the same.
	_ = syscall.Exec(exe, os.Args, noRaceExitSleep(nil))
}

// Parallel makes -parallel n unless the command line gives -parallel (its
// default is GOMAXPROCS, for tests that compute; a package whose parallel
// tests mostly wait, on timers and child processes, runs more at once).
// It parses the flags.
func Parallel(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}
