package httpapi

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes checks that openapi.yaml describes exactly the
// routes served, with their methods, that the endpoints needing no key are
// those it marks "security: []", and that docs/http-api.md shows each one.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			Security []any `yaml:"security"`
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			open := op.Security != nil && len(op.Security) == 0
			i := slices.IndexFunc(routes, func(r route) bool { return r.path == path })
			if i >= 0 && open != (routes[i].endpoint == "") {
				t.Errorf("%s %s: open in openapi.yaml %v, needs no key %v", method, path, open, routes[i].endpoint == "")
			}
		}
	}
	for _, r := range routes {
		served = append(served, r.method+" "+r.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.yaml describes\n\t%q\nthe handler serves\n\t%q", documented, served)
	}

	guide, err := os.ReadFile("../docs/http-api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if !strings.Contains(string(guide), "## "+r.method+" "+r.path) {
			t.Errorf("docs/http-api.md has no section %q", "## "+r.method+" "+r.path)
		}
		if !slices.ContainsFunc(strings.Split(string(guide), "\n"), func(l string) bool {
			return strings.HasPrefix(l, "curl ") && strings.Contains(l, "$API"+r.path+`"`)
		}) {
			t.Errorf("docs/http-api.md has no curl example for %s", r.path)
		}
	}
}
