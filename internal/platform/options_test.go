package platform

import (
	"regexp"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	p := &Platform{Name: "demo", AppID: regexp.MustCompile(`^dm[0-9]{4}$`), AppIDHint: `"dm" and 4 digits`,
		NeedsSecret: true, Options: []string{"aes_key", "app_private_key"}, Required: []string{"app_private_key"}}
	ok := Config{AppID: "dm1234", Secret: "hush-secret", Options: map[string]string{"app_private_key": "hush-key"}}
	if err := p.CheckConfig(ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.AppID = "wx1234" }, `demo app "wx1234": app_id must be "dm" and 4 digits`},
		{func(c *Config) { c.Secret = "" }, "demo app dm1234: app_secret is required"},
		{func(c *Config) {
			c.Options = map[string]string{"app_private_key": "hush-key", "zeta": "hush-z", "beta": "hush-b"}
		},
			`demo app dm1234: unknown option "beta": the demo platform takes ["aes_key" "app_private_key"]`},
		{func(c *Config) { c.Options = map[string]string{"aes_key": "hush-aes"} }, "demo app dm1234: option app_private_key is required"},
	} {
		cfg := ok
		tc.edit(&cfg)
		err := p.CheckConfig(cfg)
		if err == nil || err.Error() != tc.want || strings.Contains(err.Error(), "hush") {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	none := &Platform{Name: "plain", AppID: regexp.MustCompile(`.`)}
	if err := none.CheckConfig(Config{AppID: "x", Options: map[string]string{"k": "v"}}); err == nil || !strings.HasSuffix(err.Error(), "takes none") {
		t.Errorf("no options: %v", err)
	}
}
