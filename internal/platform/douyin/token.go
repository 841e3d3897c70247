package douyin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// clientTokenAnswer is client_token's answer: its own wrapper, the error
// in data.error_code.
type clientTokenAnswer struct {
	Data *struct {
		AccessToken string `json:"access_token"`
		ErrorCode   *int   `json:"error_code"`
		Description string `json:"description"`
		ExpiresIn   int64  `json:"expires_in"`
	} `json:"data"`
	Message string `json:"message"`
}

// fetchClientToken gets a client_token at POST {open host}/oauth/client_token/
// (TokenSource.Fetch). Douyin keeps the two newest alive, the older one for
// five minutes: the TokenSource fetches once per app, before expiry.
func (c *client) fetchClientToken(ctx context.Context) (string, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{
		"client_key": c.appID, "client_secret": c.secret, "grant_type": "client_credential",
	})
	var ans clientTokenAnswer
	if err := c.postJSON(ctx, EndpointClientToken, c.openBase, PathClientToken, nil, body, &ans); err != nil {
		return "", 0, err
	}
	bad := func(why string) (string, time.Duration, error) {
		return "", 0, c.caller.BadAnswer(EndpointClientToken, http.StatusOK, errors.New(why))
	}
	d := ans.Data
	switch {
	case d == nil || d.ErrorCode == nil:
		return bad("answer without data.error_code")
	case *d.ErrorCode != 0:
		msg := d.Description
		if msg == "" {
			msg = ans.Message
		}
		return "", 0, apiError(EndpointClientToken, *d.ErrorCode, msg)
	case d.AccessToken == "" || d.ExpiresIn <= 0:
		return bad("answer without access_token or expires_in")
	}
	return d.AccessToken, time.Duration(d.ExpiresIn) * time.Second, nil
}
