package reply

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// DefaultBodyTimeout is how long a body the modules read themselves may
// take to arrive.
const DefaultBodyTimeout = 10 * time.Second

// bodyTimeout is the body read timeout, in nanoseconds.
var bodyTimeout atomic.Int64

func init() { bodyTimeout.Store(int64(DefaultBodyTimeout)) }

// SetBodyTimeout changes the body read timeout (tests shorten it) and
// returns the one it replaced.
func SetBodyTimeout(d time.Duration) time.Duration {
	return time.Duration(bodyTimeout.Swap(int64(d)))
}

// BoundUnreadBody bounds, by the body timeout, how long Go's server may
// wait for the rest of a request body before it sends an answer written
// without reading it (a POST without a token, say): it reads a body left
// unread to its end first (up to 256 KiB), at the client's pace, before
// the answer goes out, and would wait for ever on a client sending a byte
// a second. Past the deadline it gives up and closes the connection
// after the answer. Call it just before writing the answer, as the
// handler's last act: the deadline must not reach a request still being
// handled.
func BoundUnreadBody(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Duration(bodyTimeout.Load())))
}

// ReadBody reads a request body of at most limit bytes: a longer one is
// BodyTooLarge, one that has not arrived within the body timeout
// (DefaultBodyTimeout) is BodyTimeout (whose answer closes the
// connection), any other failure to read it is broken.
//
// Caddy sets no body read timeout by default: without this, a client
// sending a byte a second holds the request, its goroutine and its
// connection for as long as it likes. The deadline is the connection's
// (HTTP/1.1) or the stream's (HTTP/2) read deadline, and is lifted once
// the body is in: the request goes on (to WeChat, say) without it, and
// Caddy's own read timeout, if one is set, has done its work by then.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, broken *Error) ([]byte, *Error) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(time.Duration(bodyTimeout.Load()))
	bounded := rc.SetReadDeadline(deadline) == nil
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if bounded {
		_ = rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, BodyTooLarge
		case bounded && (errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(deadline)):
			return nil, BodyTimeout
		}
		return nil, broken
	}
	return b, nil
}
