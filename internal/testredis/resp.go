package testredis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Cmd connects to addr, authenticates with password (unless ""), runs one
// command and returns its reply: a string (simple or bulk), an int64, nil,
// or a []any of those. An error reply is returned as an error. It is a
// plain RESP2 client for inspecting a server from tests, not for speed.
func Cmd(addr, password string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	return cmdOn(c, password, args...)
}

// cmdOn is Cmd on a connection, which it closes.
func cmdOn(c net.Conn, password string, args ...string) (any, error) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if password != "" {
		if _, err := roundTrip(c, r, "AUTH", password); err != nil {
			return nil, err
		}
	}
	return roundTrip(c, r, args...)
}

func roundTrip(w io.Writer, r *bufio.Reader, args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return nil, err
	}
	return readReply(r)
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, errors.New(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			// an error inside an array (EXEC) is kept as an error value
			v, err := readReply(r)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) || errors.Is(err, io.EOF) {
					return nil, err
				}
				out[i] = err
				continue
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected RESP line %q", line)
}
