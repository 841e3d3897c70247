package testredis

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServerDoStopRestart(t *testing.T) {
	s := Start(t)
	if v := s.MustDo("SET", "k", "v"); v != "OK" {
		t.Fatalf("SET: %v", v)
	}
	if v := s.MustDo("GET", "k"); v != "v" {
		t.Fatalf("GET: %v", v)
	}
	if v := s.MustDo("GET", "missing"); v != nil {
		t.Fatalf("GET missing: %v", v)
	}
	if v := s.MustDo("RPUSH", "l", "a", "b"); v != int64(2) {
		t.Fatalf("RPUSH: %#v", v)
	}
	if v, _ := s.MustDo("LRANGE", "l", "0", "-1").([]any); len(v) != 2 || v[1] != "b" {
		t.Fatalf("LRANGE: %#v", v)
	}
	if _, err := s.Do("NOSUCHCOMMAND"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("error reply: %v", err)
	}
	if s.Info("role") != "master" {
		t.Fatalf("INFO role: %q", s.Info("role"))
	}
	s.Restart()
	if v := s.MustDo("GET", "k"); v != nil {
		t.Fatalf("after Restart the server should be empty: %v", v)
	}
}

func TestPasswordAndUnixSocket(t *testing.T) {
	s := StartWith(t, Options{Password: "pw-123", Unix: true})
	if _, err := Cmd(s.Addr(), "", "GET", "k"); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("without the password: %v", err)
	}
	if v := s.MustDo("PING"); v != "PONG" {
		t.Fatalf("PING: %v", v)
	}
	c, err := net.DialTimeout("unix", s.Socket, time.Second)
	if err != nil {
		t.Fatalf("unix socket: %v", err)
	}
	defer c.Close()
	if _, err := roundTrip(c, bufio.NewReader(c), "AUTH", "pw-123"); err != nil {
		t.Fatal(err)
	}
	if v, err := roundTrip(c, bufio.NewReader(c), "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING over the socket: %v %v", v, err)
	}
}

func TestProxyFreezeThaw(t *testing.T) {
	s := Start(t)
	p := StartProxy(t, s.Addr())
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if v, err := roundTrip(c, r, "PING"); err != nil || v != "PONG" {
		t.Fatalf("through the proxy: %v %v", v, err)
	}
	p.Freeze()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if v, err := roundTrip(c, r, "PING"); err == nil {
		t.Fatalf("a frozen proxy let a reply through: %v", v)
	}
	p.Thaw()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// the PING held during the freeze is answered now
	if v, err := readReply(r); err != nil || v != "PONG" {
		t.Fatalf("after Thaw: %v %v", v, err)
	}
}
