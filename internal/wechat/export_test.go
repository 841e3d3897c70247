package wechat

// Fetches returns how many stable_token calls this source has made.
func (s *TokenSource) Fetches() int64 { return s.fetches.Load() }
