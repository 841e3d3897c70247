//go:build race

package wechatauth_test

// raceEnabled: the test binary runs with -race, so a Caddy built for a
// test reuses the race-built packages (and checks races too).
const raceEnabled = true
