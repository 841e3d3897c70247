package echoserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// WithContentCheck serves POST /api/check with ContentCheck and every
// other request with next.
func WithContentCheck(next http.Handler, gateway string, logf func(format string, args ...any)) http.Handler {
	check := ContentCheck(gateway, logf)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/check" {
			check.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CheckAnswer is what POST /api/check answers.
type CheckAnswer struct {
	OpenID  string `json:"openid"`
	AppID   string `json:"appid"`
	Suggest string `json:"suggest,omitempty"` // WeChat's verdict: pass, review or risky
	Label   int    `json:"label,omitempty"`
	Errcode int    `json:"errcode,omitempty"` // WeChat's, when it refused the call
	Errmsg  string `json:"errmsg,omitempty"`
}

// ContentCheck is a backend written as for WeChat Cloud Hosting: it reads
// the user from x-wx-openid and x-wx-appid, and calls WeChat's server API
// with no access_token, here through the wechat_api gateway at gateway
// (such as http://127.0.0.1:2020) instead of Cloud Hosting's open API
// service. POST {"content": "..."} asks WeChat's text security check
// (msg_sec_check, version 2) about the text, for this user.
func ContentCheck(gateway string, logf func(format string, args ...any)) http.Handler {
	client := &http.Client{Timeout: 10 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
			if logf != nil {
				logf("%s %s -> %d", r.Method, r.URL.Path, status)
			}
		}
		openid, appid := r.Header.Get("x-wx-openid"), r.Header.Get("x-wx-appid")
		var in struct {
			Content string `json:"content"`
		}
		switch {
		case r.Method != http.MethodPost:
			answer(http.StatusMethodNotAllowed, map[string]string{"error": "POST {\"content\": \"...\"}"})
			return
		case openid == "":
			answer(http.StatusUnauthorized, map[string]string{"error": "no x-wx-openid: only reachable through wechat_auth"})
			return
		case json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in) != nil || in.Content == "":
			answer(http.StatusBadRequest, map[string]string{"error": "POST {\"content\": \"...\"}"})
			return
		}
		body, _ := json.Marshal(map[string]any{"content": in.Content, "version": 2, "scene": 2, "openid": openid})
		resp, err := client.Post(strings.TrimRight(gateway, "/")+"/wxa/msg_sec_check", "application/json", bytes.NewReader(body))
		if err != nil {
			answer(http.StatusBadGateway, map[string]string{"error": "the gateway: " + err.Error()})
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK { // the gateway's own refusal (allow_from, WeChat unreachable, ...)
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			answer(http.StatusBadGateway, map[string]string{"error": "the gateway answered " + resp.Status + ": " + string(msg)})
			return
		}
		var wx struct {
			Errcode int    `json:"errcode"`
			Errmsg  string `json:"errmsg"`
			Result  struct {
				Suggest string `json:"suggest"`
				Label   int    `json:"label"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&wx); err != nil {
			answer(http.StatusBadGateway, map[string]string{"error": "the gateway answered " + resp.Status})
			return
		}
		out := CheckAnswer{OpenID: openid, AppID: appid, Suggest: wx.Result.Suggest, Label: wx.Result.Label}
		status := http.StatusOK
		if wx.Errcode != 0 {
			out.Errcode, out.Errmsg, status = wx.Errcode, wx.Errmsg, http.StatusBadGateway
		}
		answer(status, out)
	})
}
