package platform

import (
	"fmt"
	"slices"
	"sort"
)

// CheckOptions refuses an option the platform does not take, naming the
// app and the option (never its value) and the options accepted.
func CheckOptions(platformName, appID string, options map[string]string, accepted ...string) error {
	var unknown []string
	for name := range options {
		if !slices.Contains(accepted, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	takes := "none"
	if len(accepted) > 0 {
		takes = fmt.Sprintf("%q", accepted)
	}
	return fmt.Errorf("%s app %s: unknown option %q: the %s platform takes %s", platformName, appID, unknown[0], platformName, takes)
}
