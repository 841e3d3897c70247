package fakedouyin

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// maxTokens bounds the token bookkeeping: past it, dead tokens are dropped.
const maxTokens = 1 << 14

// issue hands out a new token of app, cutting the life of the app's
// previous ones: the one before it keeps at most TokenGrace, any older one
// dies at once (both kinds: the mini-app token keeps one predecessor, the
// client_token "the latest two"). s.mu must be held.
func (s *Server) issue(app string, client bool, prefix string, now time.Time) *token {
	t := &token{app: app, value: prefix + base64.RawURLEncoding.EncodeToString(fakekit.RandomBytes(33)),
		client: client, expires: now.Add(TokenTTL)}
	var prev []*token
	if client {
		prev = s.clientToks[app]
	} else if p := s.miniTokens[app]; p != nil {
		prev = []*token{p}
	}
	for i, p := range prev {
		if i < len(prev)-1 {
			p.expires = now // older than the previous one: dead
		} else if grace := now.Add(TokenGrace); p.expires.After(grace) {
			p.expires = grace
		}
	}
	if client {
		if n := len(prev); n > 0 {
			s.clientToks[app] = []*token{prev[n-1], t}
		} else {
			s.clientToks[app] = []*token{t}
		}
	} else {
		s.miniTokens[app] = t
	}
	if len(s.tokens) >= maxTokens {
		for v, old := range s.tokens {
			if !now.Before(old.expires) {
				delete(s.tokens, v)
			}
		}
	}
	s.tokens[t.value] = t
	return t
}

// checkToken says whether value is a live client_token: 0, or the
// error number get_phonenumber_info answers (28001003 unknown, 28001008
// expired), and the token's app.
func (s *Server) checkToken(value string) (app string, errNo int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	switch {
	case !ok || !t.client:
		return "", 28001003
	case !s.Now().Before(t.expires):
		return "", 28001008
	}
	return t.app, 0
}

type miniTokenData struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// miniToken serves POST /api/apps/v2/token: JSON {appid, secret,
// grant_type: "client_credential"}; 40015 bad appid, 40017 bad secret,
// 40020 bad grant_type, -1 when forced busy.
func (s *Server) miniToken(w http.ResponseWriter, r *http.Request) {
	type ans struct {
		ErrNo   int           `json:"err_no"`
		ErrTips string        `json:"err_tips"`
		Data    miniTokenData `json:"data"`
	}
	fail := func(errNo int, tips string) { answer(w, ans{ErrNo: errNo, ErrTips: tips}) }
	if busy := (errAnswer{-1, "system error"}); s.begin(w, r, EndpointToken, fail, busy, busy) {
		return
	}
	var req struct {
		credentials
		GrantType string `json:"grant_type"`
	}
	app, ok := s.readApp(r, &req, &req.credentials, fail)
	switch {
	case !ok:
		return
	case req.GrantType != "client_credential":
		fail(40020, "bad grant_type")
		return
	}
	s.mu.Lock()
	t := s.issue(app.ID, false, "0801121", s.Now())
	s.mu.Unlock()
	answer(w, ans{ErrTips: "success", Data: miniTokenData{AccessToken: t.value, ExpiresIn: int64(TokenTTL / time.Second)}})
}

type clientTokenData struct {
	AccessToken string `json:"access_token,omitempty"`
	Captcha     string `json:"captcha,omitempty"`
	DescURL     string `json:"desc_url,omitempty"`
	Description string `json:"description"`
	ErrorCode   int    `json:"error_code"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
}

// clientToken serves POST /oauth/client_token/: JSON {client_key,
// client_secret, grant_type: "client_credential"}; errors in
// data.error_code: 10002 bad params, 10003 unknown client_key, 10013 bad
// secret, 10020 past ClientTokenLimit calls of the app in
// ClientTokenWindow; -1 when forced busy (a value of the fake's own).
func (s *Server) clientToken(w http.ResponseWriter, r *http.Request) {
	type ans struct {
		Data    clientTokenData `json:"data"`
		Message string          `json:"message"`
	}
	fail := func(code int, desc string) {
		answer(w, ans{Data: clientTokenData{Description: desc, ErrorCode: code}, Message: "error"})
	}
	if s.begin(w, r, EndpointClientToken, fail, errAnswer{-1, "系统繁忙"}, errAnswer{10020, "请求太频繁"}) {
		return
	}
	var req struct {
		ClientKey    string `json:"client_key"`
		ClientSecret string `json:"client_secret"`
		GrantType    string `json:"grant_type"`
	}
	if !readBody(r, &req) || req.GrantType != "client_credential" || req.ClientKey == "" {
		fail(10002, "参数不合法")
		return
	}
	app, known := s.apps[req.ClientKey]
	switch {
	case !known:
		fail(10003, "配置无效")
		return
	case req.ClientSecret != app.Secret:
		fail(10013, "client_key或client_secret错误")
		return
	}
	now := s.Now()
	s.mu.Lock()
	calls := s.clientCalls[app.ID]
	for len(calls) > 0 && now.Sub(calls[0]) >= ClientTokenWindow {
		calls = calls[1:]
	}
	calls = append(calls, now)
	s.clientCalls[app.ID] = calls
	if len(calls) > ClientTokenLimit {
		s.mu.Unlock()
		fail(10020, "请求太频繁")
		return
	}
	t := s.issue(app.ID, true, "clt.", now)
	s.mu.Unlock()
	answer(w, ans{Data: clientTokenData{AccessToken: t.value, ErrorCode: 0,
		ExpiresIn: int64(TokenTTL / time.Second)}, Message: "success"})
}
