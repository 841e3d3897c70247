package session

import (
	"strings"
	"testing"
)

func TestRedisURL(t *testing.T) {
	for _, tc := range []struct {
		url    string
		addrs  string
		master string
		db     int
		user   string
		pass   string
		tls    bool
		unix   bool
		near   int
	}{
		{url: "redis://127.0.0.1:6380", addrs: "127.0.0.1:6380"},
		{url: "redis://cache.internal", addrs: "cache.internal:6379"},
		{url: "redis://:s3cret@h:1/2", addrs: "h:1", pass: "s3cret", db: 2},
		{url: "redis://u:p%40ss@h:1/", addrs: "h:1", user: "u", pass: "p@ss"},
		{url: "redis://[::1]:7000?db=3", addrs: "[::1]:7000", db: 3},
		{url: "rediss://h:6380", addrs: "h:6380", tls: true},
		{url: "redis://h1:7001?addr=h2:7002&addr=h3:7003", addrs: "h1:7001,h2:7002,h3:7003"},
		{url: "redis://s1:26379?addr=s2&master_set=mymaster", addrs: "s1:26379,s2:26379", master: "mymaster"},
		{url: "redis://:pw@s1?addr=s2:26380&master_set=m&sentinel_password=spw", addrs: "s1:26379,s2:26380", master: "m", pass: "pw"},
		{url: "unix:///run/redis/redis.sock", addrs: "/run/redis/redis.sock", unix: true},
		{url: "unix://:pw@/run/redis.sock?db=1", addrs: "/run/redis.sock", unix: true, pass: "pw", db: 1},
		{url: "redis://h?near_cache=off", addrs: "h:6379", near: -1},
		{url: "redis://h?near_cache=16MB", addrs: "h:6379", near: 16 << 20},
		{url: "redis://h?near_cache=512kb", addrs: "h:6379", near: 512 << 10},
	} {
		got, err := parseRedisURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		o := got.opt
		if a := strings.Join(o.InitAddress, ","); a != tc.addrs || o.Sentinel.MasterSet != tc.master || o.SelectDB != tc.db ||
			o.Username != tc.user || o.Password != tc.pass || (o.TLSConfig != nil) != tc.tls || (o.DialCtxFn != nil) != tc.unix || got.nearCache != tc.near {
			t.Errorf("%s: addrs %s master %q db %d user %q pass %q tls %v unix %v near %d", tc.url, a, o.Sentinel.MasterSet,
				o.SelectDB, o.Username, o.Password, o.TLSConfig != nil, o.DialCtxFn != nil, got.nearCache)
		}
		if tc.tls && (o.TLSConfig.InsecureSkipVerify || o.TLSConfig.RootCAs != nil) {
			t.Errorf("%s: TLS not verified against the system roots", tc.url)
		}
	}
	for _, tc := range []struct{ url, says string }{
		{"", "empty"},
		{"http://h:1", `scheme "http"`},
		{"h:6379", `scheme "h"`},
		{"localhost", "no scheme"},
		{"redis://", "no host"},
		{"redis://:pw-X91@h:99999", "port"},
		{"redis://h/x", `database "x"`},
		{"redis://h/1/2", "only a database number"},
		{"redis://h?addr=bad:port", "addr="},
		{"redis://h?master=m", `unknown parameter "master"`},
		{"redis://h?master_set=", "master_set is empty"},
		{"redis://h?master_set=a&master_set=b", "given 2 times"},
		{"redis://h?near_cache=lots", "near_cache"},
		{"redis://h?sentinel_password=pw-X91", "need master_set"},
		{"unix://host/run/redis.sock", "unix:///absolute/path"},
		{"unix:///s.sock?addr=h:1", "do not go with unix"},
		{"redis://:pw-X91@h:1/%zz", "does not parse"},
		{"redis://:pw-X91 @h:1", "does not parse"},
	} {
		_, err := parseRedisURL(tc.url)
		if err == nil {
			t.Errorf("%q: no error", tc.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.says) {
			t.Errorf("%q: %q does not say %q", tc.url, msg, tc.says)
		}
		for _, want := range []string{"redis://", "rediss://", "unix://", "addr=", "master_set="} {
			if !strings.Contains(msg, want) {
				t.Errorf("%q: the error does not name %s: %s", tc.url, want, msg)
			}
		}
		if strings.Contains(msg, "pw-X91") {
			t.Errorf("%q: the error echoes the password: %s", tc.url, msg)
		}
	}
	// NewRedis refuses the same, and incomplete options
	for _, o := range []RedisOptions{
		{URL: "http://h", AppID: "a", KeySecret: "s"},
		{URL: "redis://h", KeySecret: "s"},
		{URL: "redis://h", AppID: "a"},
	} {
		if _, err := NewRedis(o); err == nil {
			t.Errorf("NewRedis(%+v): no error", o)
		}
	}
}
