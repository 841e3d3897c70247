//go:build !race

package testharness

// RaceEnabled: the tests run without -race.
const RaceEnabled = false
