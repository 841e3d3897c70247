// Command caddy is a complete Caddy, with every standard module, and the
// wechat_auth handler compiled in. Build it with `go build ./cmd/caddy`.
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// plug in Caddy modules here
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/wechat-auth/wechat_auth"
)

func main() {
	caddycmd.Main()
}
