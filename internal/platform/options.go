package platform

import (
	"fmt"
	"slices"
	"sort"
)

// CheckConfig checks what every platform's New checks alike: the app id
// has the platform's shape, the secret is there where NeedsSecret, every
// option is one of Options and every one of Required is set. Its errors
// name the app and the setting, never a value but the app id.
func (p *Platform) CheckConfig(cfg Config) error {
	if !p.AppID.MatchString(cfg.AppID) {
		return fmt.Errorf("%s app %q: app_id must be %s", p.Name, cfg.AppID, p.AppIDHint)
	}
	if p.NeedsSecret && cfg.Secret == "" {
		return fmt.Errorf("%s app %s: app_secret is required", p.Name, cfg.AppID)
	}
	var unknown []string
	for name := range cfg.Options {
		if !slices.Contains(p.Options, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := "none"
		if len(p.Options) > 0 {
			takes = fmt.Sprintf("%q", p.Options)
		}
		return fmt.Errorf("%s app %s: unknown option %q: the %s platform takes %s", p.Name, cfg.AppID, unknown[0], p.Name, takes)
	}
	for _, name := range p.Required {
		if cfg.Options[name] == "" {
			return fmt.Errorf("%s app %s: option %s is required", p.Name, cfg.AppID, name)
		}
	}
	return nil
}
