package platform

import "encoding/json"

// ParseCountryCode reads a payload's countryCode given as a string or a
// number, with or without "+"; "86" when there is none (absent, null or
// ""). It reports false for anything but digits.
func ParseCountryCode(raw json.RawMessage) (string, bool) { return countryCode(raw) }
