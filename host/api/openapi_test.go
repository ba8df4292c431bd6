package api

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPICoversRoutes checks that openapi.yaml documents exactly the
// routes the mux serves, each with its error answers.
func TestOpenAPICoversRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			Responses map[string]any `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]map[string]any{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = op.Responses
		}
	}
	served := map[string]access{}
	for _, rt := range New(nil, nil, nil).routes() {
		// OpenAPI has no wildcard segment: {key...} is written {key}.
		served[rt.method+" "+strings.ReplaceAll(rt.path, "...}", "}")] = rt.access
	}
	var missing, extra []string
	for k, a := range served {
		resp, ok := documented[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		if a != public {
			if _, ok := resp["401"]; !ok {
				t.Errorf("%s: no 401 response documented", k)
			}
		}
		if len(resp) == 0 {
			t.Errorf("%s: no responses", k)
		}
	}
	// Served beside the API by host/server (its TestMetricsDocumented
	// checks that it serves them).
	for _, k := range ServerRoutes {
		served[k] = public
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("served but not in openapi.yaml: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("in openapi.yaml but not served: %v", extra)
	}
}
