package reply

import (
	"errors"
	"io"
	"net/http"
)

// ReadBody reads a request body of at most limit bytes: a longer one is
// BodyTooLarge, any other failure to read it is broken.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, broken *Error) ([]byte, *Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, BodyTooLarge
		}
		return nil, broken
	}
	return b, nil
}
