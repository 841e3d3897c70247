package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/rueidis"
)

// redisURLHelp says what a redis URL may be; every URL error ends with it.
const redisURLHelp = "accepted: redis://[user:password@]host[:port][/db], " +
	"rediss://... (TLS, verified against the system's roots), unix://[user:password@]/path/to/redis.sock[?db=n]; " +
	"parameters: addr=host:port (more nodes, repeatable: the nodes of a Cluster, or Sentinels with master_set), " +
	"master_set=<name> (the hosts are Sentinels of that master), db=<n>, " +
	"sentinel_username=<user>, sentinel_password=<password>, near_cache=off|<size>[KB|MB|GB]"

// redisTarget is what a redis URL says.
type redisTarget struct {
	opt rueidis.ClientOption
	// nearCache is the near cache's size per node from near_cache=
	// (-1 off, 0 not given).
	nearCache int
}

// errRedisURL makes a URL error. Its text never holds the URL itself, which
// may carry a password.
func errRedisURL(format string, a ...any) error {
	return errors.New("redis URL: " + fmt.Sprintf(format, a...) + "; " + redisURLHelp)
}

// parseRedisURL reads a redis://, rediss:// or unix:// URL.
func parseRedisURL(raw string) (redisTarget, error) {
	var t redisTarget
	if strings.TrimSpace(raw) == "" {
		return t, errRedisURL("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL: not passed on
		return t, errRedisURL("does not parse as a URL (percent-encode reserved characters such as @ / # ? in the password)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return t, errRedisURL("its query does not parse")
	}
	for name := range q {
		switch name {
		case "addr", "master_set", "db", "sentinel_username", "sentinel_password", "near_cache":
		default:
			return t, errRedisURL("unknown parameter %q", name)
		}
	}
	for _, name := range []string{"master_set", "db", "sentinel_username", "sentinel_password", "near_cache"} {
		if len(q[name]) > 1 {
			return t, errRedisURL("parameter %q given %d times", name, len(q[name]))
		}
	}
	o := &t.opt
	o.Sentinel.MasterSet = q.Get("master_set")
	if q.Has("master_set") && o.Sentinel.MasterSet == "" {
		return t, errRedisURL("master_set is empty")
	}
	defaultPort := "6379"
	if o.Sentinel.MasterSet != "" {
		defaultPort = "26379"
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Opaque != "" || u.Host == "" {
			return t, errRedisURL("no host after %s://", u.Scheme)
		}
		addr, err := hostPort(u.Host, defaultPort)
		if err != nil {
			return t, errRedisURL("host: %v", err)
		}
		o.InitAddress = []string{addr}
		switch p := strings.Trim(u.Path, "/"); {
		case p == "":
		case strings.Contains(p, "/"):
			return t, errRedisURL("path %q: only a database number may follow the host", u.Path)
		default:
			if o.SelectDB, err = dbNumber(p); err != nil {
				return t, err
			}
		}
		if u.Scheme == "rediss" {
			// no ServerName: crypto/tls checks each node's certificate
			// against the host it dials
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			o.Sentinel.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	case "unix":
		if u.Path == "" || u.Host != "" {
			return t, errRedisURL("a unix URL is unix:///absolute/path/to/redis.sock (empty host)")
		}
		if q.Has("addr") || o.Sentinel.MasterSet != "" {
			return t, errRedisURL("addr= and master_set= do not go with unix://")
		}
		o.InitAddress = []string{u.Path}
		o.DialCtxFn = func(ctx context.Context, path string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
	case "":
		return t, errRedisURL("no scheme")
	default:
		return t, errRedisURL("scheme %q", u.Scheme)
	}
	if q.Has("db") {
		if o.SelectDB, err = dbNumber(q.Get("db")); err != nil {
			return t, err
		}
	}
	for _, a := range q["addr"] {
		addr, err := hostPort(a, defaultPort)
		if err != nil {
			return t, errRedisURL("addr=%q: %v", a, err)
		}
		o.InitAddress = append(o.InitAddress, addr)
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	o.Sentinel.Username = q.Get("sentinel_username")
	o.Sentinel.Password = q.Get("sentinel_password")
	if o.Sentinel.MasterSet == "" && (o.Sentinel.Username != "" || o.Sentinel.Password != "") {
		return t, errRedisURL("sentinel_username= and sentinel_password= need master_set=")
	}
	if q.Has("near_cache") {
		if t.nearCache, err = byteSize(q.Get("near_cache")); err != nil {
			return t, err
		}
	}
	return t, nil
}

// hostPort checks host[:port] and adds the default port.
func hostPort(s, defaultPort string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// no port (or a bare IPv6 address in brackets)
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), defaultPort
	}
	if host == "" || strings.ContainsAny(host, "/@?#[] ") {
		return "", errors.New("want host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number in 1..65535", port)
	}
	return net.JoinHostPort(host, port), nil
}

func dbNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errRedisURL("database %q is not a number >= 0", s)
	}
	return n, nil
}

// byteSize reads near_cache: "off", or a size such as 64MB (-1 for off).
func byteSize(s string) (int, error) {
	if s == "off" || s == "0" {
		return -1, nil
	}
	mult := 1
	num := s
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(s), u.suffix) {
			num, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errRedisURL("near_cache=%q is neither off nor a size such as 64MB", s)
	}
	return n * mult, nil
}
