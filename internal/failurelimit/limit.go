// Package failurelimit counts the codes WeChat refused, by client address,
// in a sliding window held in bounded memory, and parses the
// failure_limit setting ("<n>/<duration>" or "off"). It knows nothing of
// Caddy or HTTP: wechat_auth's failurelimit.go keeps one Limiter per app
// and asks it before /wx/login and /wx/phone.
package failurelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default is failure_limit when the config gives none.
const Default = "30/1m"

const (
	// slots is how many time slices of a window one address keeps: the
	// window is cut into slots-1 slices, and a refused code counts until
	// its slice is slots slices old, so for at least the window and at
	// most 1/15 of it longer.
	slots = 16
	// maxCount bounds n: a slice counts up to 65535 (uint16).
	maxCount = 1<<16 - 1
	// MaxAddresses bounds how many client addresses one app's limiter
	// remembers (those with the most recent failures): 72 bytes each,
	// 4.5 MiB per app at most, whatever the number of addresses.
	MaxAddresses = 1 << 16
	shardCount   = 16
)

// Limit is a parsed failure_limit: N refused codes within Window; the zero
// value is "off".
type Limit struct {
	N      int
	Window time.Duration
}

// Off reports whether the limit is off.
func (l Limit) Off() bool { return l.N == 0 }

func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	s := l.Window.String() // 1m0s, 1h0m0s: shown as 1m, 1h
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return strconv.Itoa(l.N) + "/" + s
}

// Parse reads "<n>/<duration>" (such as 30/1m; the duration as Caddy
// reads one, days included), "off", or "" (the default).
func Parse(s string) (Limit, error) {
	const accepted = "want <n>/<duration>, n refused codes per client address within the duration (n from 1 to 65535, a duration of at least 1s), such as failure_limit 30/1m; or off"
	switch s {
	case "":
		s = Default
	case "off":
		return Limit{}, nil
	}
	count, dur, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("failure_limit %q: %s", s, accepted)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxCount {
		return Limit{}, fmt.Errorf("failure_limit %q: n %q is not a whole number from 1 to 65535: %s", s, count, accepted)
	}
	window, err := parseDuration(dur)
	if err != nil || window < time.Second {
		return Limit{}, fmt.Errorf("failure_limit %q: window %q is not a duration of at least 1s: %s", s, dur, accepted)
	}
	return Limit{N: n, Window: window}, nil
}

// parseDuration is time.ParseDuration with days ("1d", "1.5d12h"), as
// Caddy's durations are written.
func parseDuration(s string) (time.Duration, error) {
	var days float64
	if d, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("days %q: not a number", d)
		}
		days, s = n, rest
		if s == "" {
			s = "0s"
		}
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return t + time.Duration(days*float64(24*time.Hour)), nil
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
