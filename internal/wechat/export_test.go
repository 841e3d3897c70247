package wechat

// Fetches returns how many stable_token calls this source has made.
func (s *TokenSource) Fetches() int64 { return s.fetches.Load() }

// DecryptPhone opens getPhoneNumber data and returns the phone in it. It
// fails with ErrMalformed, ErrUndecryptable, ErrNoPhone, ErrWatermark
// (watermark.appid must be appID) or ErrStale (a watermark.timestamp in
// the future); data of any age is accepted. Errors never carry decrypted
// bytes.
func DecryptPhone(sessionKey, iv, encryptedData, appID string) (Phone, error) {
	return DecryptPhoneWith(sessionKey, iv, encryptedData, PhoneCheck{AppID: appID})
}
