//go:build race

package testharness

// RaceEnabled: the tests run with -race, so a binary built for a test is
// built with it too (reusing the race-built packages, and checking races).
const RaceEnabled = true
