package cors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestCaddyfileAdapt runs the adapt tests of testdata/caddyfile_adapt, in
// Caddy's own format: a Caddyfile, a line of ten dashes, then either the
// JSON it adapts to (tab-indented, keys sorted) or a part of the error that
// adapting it must report.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob("testdata/caddyfile_adapt/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no adapt tests: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, expected, ok := strings.Cut(string(data), "----------")
			if !ok {
				t.Fatalf("%s has no ---------- line", file)
			}
			assertAdapts(t, file, strings.TrimSpace(caddyfile)+"\n", strings.TrimSpace(expected))
		})
	}
}

// TestExamplesAdapt checks that each example's Caddyfile adapts to its JSON
// twin, so that the two stay the same configuration.
func TestExamplesAdapt(t *testing.T) {
	for _, dir := range examples(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			caddyfile, twin := readExample(t, dir)
			assertAdapts(t, dir, caddyfile, strings.TrimSpace(twin))
		})
	}
}

// examples lists the directories of examples/.
func examples(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("examples/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return dirs
}

// readExample returns the Caddyfile of an example and its JSON twin.
func readExample(t *testing.T, dir string) (caddyfile, twin string) {
	t.Helper()
	c, err := os.ReadFile(filepath.Join(dir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(filepath.Join(dir, "caddy.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(c), string(j)
}

// assertAdapts adapts a Caddyfile and compares the result with expected:
// JSON if it starts with "{", otherwise a part of the expected error.
func assertAdapts(t *testing.T, name, caddyfile, expected string) {
	t.Helper()
	if strings.HasPrefix(expected, "{") {
		if !caddytest.CompareAdapt(t, name, caddyfile, "caddyfile", expected) {
			t.Errorf("%s does not adapt to the expected JSON (the diff is printed above)", name)
		}
		return
	}
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	if err == nil {
		t.Fatalf("%s adapted, want an error containing %q", name, expected)
	}
	if !strings.Contains(err.Error(), expected) {
		t.Errorf("%s: error\n%v\nwant it to contain\n%s", name, err, expected)
	}
}
