package session

import "testing"

// storeKinds makes a fresh store of each kind for the shared Store suite:
// each kind's test file registers itself in an init.
var storeKinds = map[string]func(t *testing.T, l Limits) Store{}
