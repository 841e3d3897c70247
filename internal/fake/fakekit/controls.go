package fakekit

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// RegisterControls registers the controls every fake has under prefix
// (such as "/fake/douyin"), JSON in and out:
//
//	POST {prefix}/advance?by=<duration>           Advance (such as 5m or -1h), 204
//	GET  {prefix}/stats                           every counter, by endpoint
//	POST {prefix}/reset_counts                    ResetCounts, 204
//	POST {prefix}/force?endpoint=<e>&mode=<m>     Force, 204
//
// endpoints lists the endpoint names force accepts.
func (b *Base) RegisterControls(mux *http.ServeMux, prefix string, endpoints []string) {
	mux.HandleFunc("POST "+prefix+"/advance", func(w http.ResponseWriter, r *http.Request) { AdvanceBy(w, r, b.Advance) })
	mux.HandleFunc("GET "+prefix+"/stats", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, b.Counts())
	})
	mux.HandleFunc("POST "+prefix+"/reset_counts", func(w http.ResponseWriter, r *http.Request) {
		b.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+prefix+"/force", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ep, m := q.Get("endpoint"), Mode(q.Get("mode"))
		if !contains(endpoints, ep) {
			FakeError(w, http.StatusBadRequest, "endpoint must be one of "+strings.Join(endpoints, ", "))
			return
		}
		if !contains(Modes, m) {
			names := make([]string, len(Modes))
			for i, x := range Modes {
				names[i] = string(x)
			}
			FakeError(w, http.StatusBadRequest, "mode must be one of "+strings.Join(names, ", "))
			return
		}
		b.Force(ep, m)
		w.WriteHeader(http.StatusNoContent)
	})
}

// AdvanceBy serves an advance control: ?by=<duration> (such as 5m or
// -1h, 400 otherwise) moves a clock with advance, 204.
func AdvanceBy(w http.ResponseWriter, r *http.Request, advance func(time.Duration)) {
	d, err := time.ParseDuration(r.URL.Query().Get("by"))
	if err != nil {
		FakeError(w, http.StatusBadRequest, "by must be a Go duration such as 5m or -1h")
		return
	}
	advance(d)
	w.WriteHeader(http.StatusNoContent)
}

func contains[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// FakeError is the error answer of the /fake/ controls: {"error": msg}.
func FakeError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// ReadJSON decodes a control's JSON body (at most 64 KiB) into v, or
// answers 400 and reports false.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(b, v) != nil {
		FakeError(w, http.StatusBadRequest, "body is not the JSON object expected")
		return false
	}
	return true
}

// UserRequest is the body of the /fake/ controls that act for a user or
// an app: {"app_id","user","phone","country_code","watermark_appid"}, and
// "payload", any JSON to seal instead of a phone (QQ's encrypt).
type UserRequest struct {
	AppID          string          `json:"app_id"`
	User           string          `json:"user"`
	Phone          string          `json:"phone"`
	CountryCode    string          `json:"country_code"`
	WatermarkAppID string          `json:"watermark_appid"`
	Payload        json.RawMessage `json:"payload"`
}

// ReadUserRequest reads a UserRequest, resolving app_id with AppOf (404
// for an unknown one) and, with needUser, requiring a user name (400).
func ReadUserRequest[V any](w http.ResponseWriter, r *http.Request, apps map[string]V, needUser bool) (UserRequest, bool) {
	var b UserRequest
	if !ReadJSON(w, r, &b) {
		return b, false
	}
	var ok bool
	if b.AppID, ok = AppOf(apps, b.AppID); !ok {
		FakeError(w, http.StatusNotFound, "unknown app_id")
		return b, false
	}
	if _, valid := User(b.User); needUser && !valid {
		FakeError(w, http.StatusBadRequest, "user must be letters, digits or _")
		return b, false
	}
	return b, true
}

// WriteSealed answers a seal control: {"encryptedData","iv"}, 404 before
// the user's login, 500 for another error.
func WriteSealed(w http.ResponseWriter, data, iv string, err error) {
	switch {
	case errors.Is(err, ErrNoSessionKey):
		FakeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		FakeError(w, http.StatusInternalServerError, err.Error())
	default:
		WriteJSON(w, http.StatusOK, map[string]string{"encryptedData": data, "iv": iv})
	}
}

// RegisterLoginControls registers under prefix the controls of a fake
// with logins: RegisterControls' (endpoints: what force accepts), POST
// {prefix}/code, a UserRequest (a user required) -> {"code": mint(it)},
// and POST {prefix}/encrypt, a UserRequest -> {"encryptedData","iv"} from
// seal (404 before the user's login).
func RegisterLoginControls[V any](mux *http.ServeMux, b *Base, prefix string, endpoints []string, apps map[string]V,
	mint func(UserRequest) string, seal func(UserRequest) (string, string, error)) {
	b.RegisterControls(mux, prefix, endpoints)
	HandleCode(mux, prefix+"/code", apps, true, mint)
	HandleSeal(mux, prefix+"/encrypt", apps, seal)
}

// HandleCode registers POST path: a UserRequest (a user required with
// needUser) -> {"code": mint(request)}.
func HandleCode[V any](mux *http.ServeMux, path string, apps map[string]V, needUser bool, mint func(UserRequest) string) {
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		if b, ok := ReadUserRequest(w, r, apps, needUser); ok {
			WriteJSON(w, http.StatusOK, map[string]string{"code": mint(b)})
		}
	})
}

// HandleSeal registers POST path: a UserRequest -> {"encryptedData","iv"}
// from seal (404 before the user's login).
func HandleSeal[V any](mux *http.ServeMux, path string, apps map[string]V, seal func(UserRequest) (string, string, error)) {
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		if b, ok := ReadUserRequest(w, r, apps, true); ok {
			data, iv, err := seal(b)
			WriteSealed(w, data, iv, err)
		}
	})
}

// FailControl serves the fail control of the fakes with their own forced
// failures (Alipay, Baidu): ?next=<failure>, one of accepted (a 400 naming
// them otherwise), is handed to force, and answered {"next"}.
func FailControl(w http.ResponseWriter, r *http.Request, accepted []string, force func(string)) {
	f := r.URL.Query().Get("next")
	if !contains(accepted, f) {
		FakeError(w, http.StatusBadRequest, "want next="+strings.Join(accepted, "|"))
		return
	}
	force(f)
	WriteJSON(w, http.StatusOK, map[string]string{"next": f})
}

// AdvanceControl is the advance control of the fakes with their own clock
// (Alipay, Baidu): POST ?by=<duration> moves it forward (a negative or
// unparsed duration is a 400 naming example), and answers {"now"}, the
// moved time in RFC 3339.
func AdvanceControl(advance func(time.Duration), now func() time.Time, example string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			FakeError(w, http.StatusBadRequest, "want by=<duration>, such as "+example)
			return
		}
		advance(d)
		WriteJSON(w, http.StatusOK, map[string]string{"now": now().UTC().Format(time.RFC3339)})
	}
}
