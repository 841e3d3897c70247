//go:build !race

package caddymodule_test

const raceEnabled = false
