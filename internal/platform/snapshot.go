package platform

import "errors"

// ErrSnapshotUser: a browser login's code exchange answered for WeChat's
// stand-in user of a snapshot page (is_snapshotuser 1, an Official
// Account page opened from a Moments share before the user entered it):
// the openid is not the user's, and no session may start from it.
var ErrSnapshotUser = errors.New("the code belongs to WeChat's snapshot-mode stand-in user, not a real user")

// Authorizer is what a browser platform's Client also is: it builds the
// URL of the platform's authorize page, to which the browser is sent to
// log in; the page returns it to redirectURI with a code and state. The
// handler type-asserts it, so that it stays platform-neutral.
type Authorizer interface {
	AuthorizeURL(redirectURI, state string) string
}
