package fakewx

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// phoneInfo is the phone payload, in getuserphonenumber's phone_info and in
// the sealed getPhoneNumber data alike. CountryCode is a string or a number.
type phoneInfo struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     any       `json:"countryCode"`
	Watermark       watermark `json:"watermark"`
}

type watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

// phoneAnswer is getuserphonenumber's success answer.
type phoneAnswer struct {
	Errcode   int       `json:"errcode"`
	Errmsg    string    `json:"errmsg"`
	PhoneInfo phoneInfo `json:"phone_info"`
}

// phoneNumber serves POST /wxa/business/getuserphonenumber?access_token=T
// with {"code": "...", "openid": "..."} (openid optional). The token is
// checked first (41001, 40001, 42001; the code is then not consumed), then
// the code, which is single use (40029 the second time) and steers the
// outcome. A code may end in "@<user>": it was handed out to that user,
// and a request whose openid is another user's answers 40003 (WeChat
// documents that it checks the openid against the code, but not with which
// errcode; 40003 "invalid openid" is its usual one). Without "@<user>", or
// without an openid in the request, nothing is checked.
//
//	phone-<pure>[-<cc>][.n]        success, countryCode a string ("86" by default)
//	phonenum-<pure>[-<cc>][.n]     success, countryCode a number
//	slow-<ms>-<pure>[-<cc>][.n]    wait ms milliseconds, then as phone-
//	busyonce-<pure>[-<cc>][.n]     -1 the first time (the code is not
//	                               consumed), then as phone-: a passing
//	                               hiccup that a retry gets past
//	hangonce-<pure>[-<cc>][.n]     no answer the first time (until the
//	                               client leaves; the code is not
//	                               consumed), then as phone-
//	bad-…                          40029
//	foreign-…                      40013: a code made for another app
//	busy-…                         -1
//	limit-…                        45011
//	hang-…, http500-…, html-…      as for jscode2session
//	anything else                  40029
//
// busy-, limit-, hang-, http500- and html- fail before WeChat looks at
// the code, which stays good: they answer the same every time (a retry
// meets them again), unlike the once- codes.
//
// A code minted with MintCode CodeTTL (5 minutes) ago or more answers
// 40029; every other error answer is text/plain. phoneNumber is the pure number for country code 86, else "+<cc> <pure>";
// the watermark names the app the token belongs to.
func (s *Server) phoneNumber(w http.ResponseWriter, r *http.Request) {
	fail, ok := s.call(w, r, EndpointPhoneNumber, http.MethodPost, s.errorType)
	if !ok {
		return
	}
	appid, errcode, errmsg := s.checkToken(r.URL.Query().Get("access_token"))
	if errcode != 0 {
		fail(errcode, errmsg)
		return
	}
	var req struct {
		Code   string `json:"code"`
		OpenID string `json:"openid"`
	}
	if !decodeBody(bodyOf(r), &req, fail) {
		return
	}
	spec, owner, bound := strings.Cut(req.Code, "@")
	outcome, _ := fakekit.ParseCode(spec)
	if req.Code == "" || s.expired(appid, req.Code) {
		fail(40029, "invalid code")
		return
	}
	// Trouble before WeChat looked at the code: the code stays good.
	switch {
	case (outcome == "busyonce" || outcome == "hangonce") && s.consume(s.triedPhone, appid, req.Code):
		if outcome == "busyonce" {
			fail(-1, "system error")
		} else {
			s.Misbehave(w, r, fakekit.ModeHang)
		}
		return
	case outcome == "busy":
		fail(-1, "system error")
		return
	case outcome == "limit":
		fail(45011, "api minute-quota reach limit")
		return
	case s.misbehave(w, r, outcome):
		return
	}
	if !s.consume(s.usedPhone, appid, req.Code) {
		fail(40029, "invalid code")
		return
	}
	if bound && req.OpenID != "" && req.OpenID != OpenID(appid, owner) {
		fail(40003, "invalid openid")
		return
	}

	outcome, arg, goOn := s.Steer(w, r, spec) // slow-<ms>-<number>: waits, then as phone-
	if !goOn {
		return
	}
	switch outcome {
	case "phone", "phonenum", "busyonce", "hangonce":
		s.answerPhone(w, appid, arg, outcome == "phonenum")
	case "ok":
		s.answerPhone(w, appid, arg, false)
	case "foreign":
		fail(40013, "invalid appid")
	default:
		fail(40029, "invalid code")
	}
}

// answerPhone answers the phone of spec ("<pure>[-<cc>][.nonce]").
func (s *Server) answerPhone(w http.ResponseWriter, appid, spec string, numericCC bool) {
	pure, cc, hasCC := strings.Cut(stripNonce(spec), "-")
	if !hasCC {
		cc = "86"
	}
	ccNum, err := strconv.Atoi(cc)
	if !platform.IsDigits(pure) || !platform.IsDigits(cc) || err != nil {
		writeJSON(w, s.errorType(), newError(40029, "invalid code"))
		return
	}
	info := phoneInfo{
		PhoneNumber:     displayNumber(pure, cc),
		PurePhoneNumber: pure,
		CountryCode:     cc,
		Watermark:       watermark{Timestamp: s.Now().Unix(), AppID: appid},
	}
	if numericCC {
		info.CountryCode = ccNum
	}
	writeJSON(w, typeJSON, phoneAnswer{Errmsg: "ok", PhoneInfo: info})
}
