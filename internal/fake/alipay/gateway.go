package fakealipay

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"crypto/rsa"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// gateway serves POST /gateway.do.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil { // the query and the form body
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-parameter", "bad form")
		return
	}
	p := r.Form
	method := p.Get("method")
	s.Hit(method) // Count: how many requests the gateway had for a method (any outcome)
	for _, k := range []string{"app_id", "method", "charset", "sign_type", "sign", "timestamp", "version"} {
		if p.Get(k) == "" {
			sub := map[string]string{"app_id": "isv.missing-app-id", "sign_type": "isv.missing-signature-type", "sign": "isv.missing-signature"}[k]
			if sub == "" {
				sub = "isv.missing-" + k
			}
			s.errorResponse(w, "40001", "Missing Required Arguments", sub, "缺少必选参数"+k)
			return
		}
	}
	switch {
	case !strings.EqualFold(p.Get("charset"), "utf-8"):
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-charset", "字符集错误")
		return
	case p.Get("sign_type") != "RSA2":
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-signature-type", "无效签名类型")
		return
	case p.Get("version") != "1.0":
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-version", "版本号错误")
		return
	case !validTimestamp(p.Get("timestamp")):
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
		return
	}
	a := s.apps[p.Get("app_id")]
	if a == nil {
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
		return
	}
	if method != MethodOAuthToken {
		s.errorResponse(w, "40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")
		return
	}
	key := strings.ReplaceAll(method, ".", "_") + "_response"
	if checked := signedString(p); !verify(a.pub, checked, p.Get("sign")) {
		s.signed(w, key, map[string]any{
			"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature",
			"sub_msg": "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：" + checked,
		}, "")
		return
	}
	if !s.forced(w, r, key) {
		s.oauthToken(w, r, a, key, p)
	}
}

// signedString is the text the gateway checks a request's signature
// against: the non-empty parameters but sign, sorted, raw values.
func signedString(p url.Values) string {
	var pairs []string
	for k := range p {
		if v := p.Get(k); k != "sign" && v != "" {
			pairs = append(pairs, k+"="+v)
		}
	}
	slices.SortFunc(pairs, func(x, y string) int {
		kx, _, _ := strings.Cut(x, "=")
		ky, _, _ := strings.Cut(y, "=")
		return strings.Compare(kx, ky)
	})
	return strings.Join(pairs, "&")
}

func validTimestamp(ts string) bool {
	_, err := time.Parse("2006-01-02 15:04:05", ts)
	return err == nil
}

func verify(pub *rsa.PublicKey, text, sign string) bool {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(text))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

// sign is the fake Alipay's RSA2 signature of text.
func (s *Server) sign(text string) string {
	sum := sha256.Sum256([]byte(text))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// forced answers a FailNext failure, if one is due.
func (s *Server) forced(w http.ResponseWriter, r *http.Request, key string) bool {
	switch f := s.takeFailure(); f {
	case "":
		return false
	case FailBadSign:
		s.signed(w, key, s.success(s.apps[r.Form.Get("app_id")], "forced"), "broken")
	default:
		s.misbehave(w, r, string(f))
	}
	return true
}

// misbehave answers the failures shared by codes and FailNext; false for
// an outcome it does not know.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, outcome string) bool {
	switch outcome {
	case "busy":
		s.errorResponse(w, "20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")
	case "limit":
		s.errorResponse(w, "40005", "Call Limited", "isp.call-limited", "调用频率超限")
	case "perm":
		s.errorResponse(w, "40006", "Insufficient Permissions", "isv.insufficient-isv-permissions", "ISV权限不足")
	default:
		return s.Misbehave(w, r, fakekit.Mode(outcome)) // hang, http500, html
	}
	return true
}

// oauthToken serves alipay.system.oauth.token once the request checked out.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request, a *app, key string, p url.Values) {
	invalid := func(sub, msg string) { s.errorResponse(w, "40002", "Invalid Arguments", sub, msg) }
	if p.Get("grant_type") != "authorization_code" {
		invalid("isv.grant-type-invalid", "grant_type参数值错误")
		return
	}
	code := p.Get("code")
	if code == "" {
		invalid("isv.code-invalid", "授权码code无效")
		return
	}
	switch s.codes.Use(a.ID, code, s.Now()) {
	case fakekit.CodeFresh:
	case fakekit.CodeOtherApp:
		invalid("isv.unmatched-app-id", "授权码与应用不匹配")
		return
	default: // used, expired
		invalid("isv.code-invalid", "授权码code无效")
		return
	}
	s.answerCode(w, r, a, key, code)
}

// answerCode answers a good auth code as it steers the outcome (see the
// package doc; slow-<ms>-<user> waits, then is ok-<user>).
func (s *Server) answerCode(w http.ResponseWriter, r *http.Request, a *app, key, code string) {
	outcome, arg, goOn := s.Steer(w, r, code)
	if !goOn {
		return
	}
	switch outcome {
	case "ok":
		s.signed(w, key, s.success(a, arg), "")
	case "badsign":
		s.signed(w, key, s.success(a, arg), "broken")
	case "badid":
		res := s.success(a, arg)
		if a.OpenID {
			res["open_id"] = BadOpenID
		} else {
			res["user_id"] = BadOpenID
		}
		s.signed(w, key, res, "")
	case "nosign":
		s.signed(w, key, s.success(a, arg), "none")
	default: // bad-… and the unknown outcomes too
		if !s.misbehave(w, r, outcome) {
			s.errorResponse(w, "40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效")
		}
	}
}

// success is the result of a login of userSpec ("<user>[.nonce]").
func (s *Server) success(a *app, userSpec string) map[string]any {
	user, _, _ := strings.Cut(userSpec, ".")
	res := map[string]any{
		"access_token":  "authusrB" + fmt.Sprintf("%x", derive("tok\x00"+userSpec+time.Now().String()))[:32],
		"expires_in":    1296000,
		"refresh_token": "authusrB" + fmt.Sprintf("%x", derive("ref\x00"+userSpec+time.Now().String()))[:32],
		"re_expires_in": 2592000,
		"auth_start":    s.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05"),
	}
	if a.OpenID {
		res["open_id"] = OpenID(a.ID, user)
	} else {
		res["user_id"] = UserID(user)
	}
	if a.UnionID {
		res["union_id"] = UnionID(user)
	}
	return res
}

// signed writes {"<key>":<text>,"sign":"<b64>"} with the signature made
// over exactly text; how "broken" breaks it, "none" leaves it out.
func (s *Server) signed(w http.ResponseWriter, key string, res map[string]any, how string) {
	text, _ := json.Marshal(res)
	body := `{"` + key + `":` + string(text)
	switch how {
	case "":
		body += `,"sign":"` + s.sign(string(text)) + `"`
	case "broken":
		body += `,"sign":"` + s.sign(string(text)+" ") + `"`
	}
	writeJSON(w, body+"}")
}

// errorResponse writes an unsigned error_response, HTTP 200.
func (s *Server) errorResponse(w http.ResponseWriter, code, msg, sub, subMsg string) {
	text, _ := json.Marshal(map[string]string{"code": code, "msg": msg, "sub_code": sub, "sub_msg": subMsg})
	writeJSON(w, `{"error_response":`+string(text)+`}`)
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // unverified (platforms.md §7); clients must not trust it
	fmt.Fprint(w, body)
}

// BadOpenID is the user id a badid- code answers: not of an id's shape.
const BadOpenID = "../../admin"
