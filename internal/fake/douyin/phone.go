package fakedouyin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// OtherAppID is the app id in the watermark of "other-" phone codes.
const OtherAppID = "tt00000000000000ff"

// phoneNumber serves POST /api/apps/v1/get_phonenumber_info/: header
// access-token (a live client_token; 28001003 unknown, 28001008 expired),
// JSON {"code"} (28001007 otherwise). The code steers the outcome:
//
//	phone-<digits>[-<cc>][.n]  success: the number (country code "86" by default)
//	long-<digits>[.n]          success, a plaintext longer than one RSA block
//	other-<digits>[.n]         success, watermarked for OtherAppID
//	badseal-<digits>[.n]       success, sealed with a key that is not the app's
//	bad-…                      28005187
//	busy-…                     28001005
//	limit-…                    28003018
//	noability-…                28001018
//	hang-, http500-, html-, empty-, trunc-…  broken answers (fakekit)
//	anything else              28005187
//
// Codes are single use per app (the token's); a minted one
// (MintPhoneCode) PhoneCodeTTL old answers 28005187. An app without a public key answers 28001018.
// Force(EndpointPhone, m) overrides the next answer.
func (s *Server) phoneNumber(w http.ResponseWriter, r *http.Request) {
	fail := func(errNo int, msg string) {
		answer(w, phoneAnswer{ErrNo: errNo, ErrMsg: msg, ErrTips: msg, LogID: s.logID()})
	}
	if s.begin(w, r, EndpointPhone, fail, errAnswer{28001005, "系统内部错误，请重试"}, errAnswer{28003018, "请求频率过高"}) {
		return
	}
	appID, errNo := s.checkToken(r.Header.Get("access-token"))
	switch errNo {
	case 28001003:
		fail(errNo, "access_token无效")
		return
	case 28001008:
		fail(errNo, "access_token过期，请刷新或重新授权")
		return
	}
	var req struct {
		Code string `json:"code"`
	}
	if !readBody(r, &req) || req.Code == "" {
		fail(28001007, "参数不合法")
		return
	}
	app := s.apps[appID]
	if app.PublicKey == nil {
		fail(28001018, "应用未获得该能力")
		return
	}
	if s.phones.Use(app.ID, req.Code, s.Now()) != fakekit.CodeFresh {
		fail(28005187, "code已过期或已使用")
		return
	}
	outcome, arg := fakekit.ParseCode(req.Code)
	switch outcome {
	case "phone", "long", "other", "badseal":
	case "busy":
		fail(28001005, "系统内部错误，请重试")
		return
	case "limit":
		fail(28003018, "请求频率过高")
		return
	case "noability":
		fail(28001018, "应用未获得该能力")
		return
	default:
		if !s.Misbehave(w, r, fakekit.Mode(outcome)) {
			fail(28005187, "code已过期或已使用")
		}
		return
	}
	number, _, _ := strings.Cut(arg, ".")
	number, cc, _ := strings.Cut(number, "-")
	if cc == "" {
		cc = "86"
	}
	if !platform.IsDigits(number) || !platform.IsDigits(cc) {
		fail(28005187, "code已过期或已使用")
		return
	}
	mark := app.ID
	if outcome == "other" {
		mark = OtherAppID
	}
	plain := s.phonePlain(number, cc, mark, outcome == "long")
	key := app.PublicKey
	if outcome == "badseal" {
		key = strangerKey(key.Size())
	}
	data, err := SealRSA(key, plain)
	if err != nil {
		fakekit.WriteRaw(w, http.StatusInternalServerError, fakekit.TypeHTML, "<html><body>"+err.Error()+"</body></html>")
		return
	}
	answer(w, phoneAnswer{LogID: s.logID(), Data: data})
}

// phonePlain is the phone JSON of WeChat's scheme, watermarked now; long
// adds a filler field so that it needs two RSA blocks.
func (s *Server) phonePlain(number, cc, watermarkApp string, long bool) []byte {
	p := map[string]any{
		"phoneNumber": phoneNumber(number, cc), "purePhoneNumber": number, "countryCode": cc,
		"watermark": map[string]any{"appid": watermarkApp, "timestamp": s.Now().Unix()},
	}
	if long {
		p["filler"] = strings.Repeat("x", 300)
	}
	b, _ := json.Marshal(p)
	return b
}

// phoneNumber is the number as shown: with "+cc " outside China.
func phoneNumber(number, cc string) string {
	if cc == "86" {
		return number
	}
	return "+" + cc + " " + number
}

// SealPhone seals the phone JSON of WeChat's scheme (watermarked for
// watermarkApp, "" for app itself) with the user's newest session_key: the
// legacy {"encryptedData","iv"}. fakekit.ErrNoSessionKey before a login.
func (s *Server) SealPhone(app, user, number, cc, watermarkApp string) (encryptedData, iv string, err error) {
	key := s.keys.Newest(app, user)
	if key == "" {
		return "", "", fakekit.ErrNoSessionKey
	}
	if cc == "" {
		cc = "86"
	}
	if watermarkApp == "" {
		watermarkApp = app
	}
	return fakekit.SealCBC(key, s.phonePlain(number, cc, watermarkApp, false))
}
