package cors

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCommandExitCodes builds the Caddy of cmd/caddy and runs
// "caddy cors check" as a process: the exit codes scripts see are 0 when
// allowed, 1 when blocked and 2 when the check could not be made, bad flags
// included, whatever Caddy's command wrapper and Cobra do with errors.
func TestCheckCommandExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Caddy")
	}
	caddy := filepath.Join(t.TempDir(), "caddy")
	build := exec.Command("go", "build", "-o", caddy, "./cmd/caddy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	allowing := newCraftedServer(t, preflightAllowing("PUT", "x-api-key"), allowPage)
	refusing := newCraftedServer(t, craftedAnswer{status: 403}, craftedAnswer{})
	redirecting := newCraftedServer(t, refuseAll, craftedAnswer{status: 302, headers: hp("Location: /next", "Access-Control-Allow-Origin: *")})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring, "" for empty
		stderr string // a substring, "" for empty
	}{
		{"allowed", []string{"cors", "check", allowing.URL, "--origin", pageOrigin, "--method", "put", "--header", "X-Api-Key: k"}, 0,
			"Verdict: allowed", ""},
		{"blocked", []string{"cors", "check", refusing.URL, "--origin", pageOrigin, "--method", "PUT"}, 1,
			"Verdict: blocked at the preflight", ""},
		{"a refused preflight gets a hint", []string{"cors", "check", refusing.URL, "--origin", pageOrigin, "--method", "patch"}, 1,
			"Hint:    Did you mean PATCH?", ""},
		{"blocked, as JSON", []string{"cors", "check", refusing.URL, "--origin", pageOrigin, "--json"}, 1,
			`"reason": "allow-origin-missing"`, ""},
		{"a redirect not followed", []string{"cors", "check", redirecting.URL, "--origin", pageOrigin}, 2,
			"Verdict: could not check", ""},
		{"a network error", []string{"cors", "check", closed.URL, "--origin", pageOrigin}, 2,
			"connection refused", ""},
		{"an unknown flag", []string{"cors", "check", allowing.URL, "--origin", pageOrigin, "--bogus"}, 2,
			"", "unknown flag: --bogus"},
		{"a flag's bad value", []string{"cors", "check", allowing.URL, "--origin", pageOrigin, "--timeout", "soon"}, 2,
			"", `invalid argument "soon"`},
		{"no origin", []string{"cors", "check", allowing.URL}, 2, "", "--origin is required"},
		{"a forbidden header", []string{"cors", "check", allowing.URL, "--origin", pageOrigin, "--header", "Cookie: a=b"}, 2,
			"", "Cookie is forbidden"},
		{"not an origin", []string{"cors", "check", allowing.URL, "--origin", "https://app.example/path"}, 2, "", "has a path"},
		{"help", []string{"cors", "check", "--help"}, 0, "Exit status: 0 allowed, 1 blocked, 2 could not check", ""},
		{"the cors command alone", []string{"cors"}, 0, "Available Commands:", ""},
		{"an unknown subcommand", []string{"cors", "chek"}, 2, "", `unknown command "chek"`},
		{"listed in caddy help", []string{"help"}, 0, "Checks a URL's CORS answers as a browser would", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(caddy, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if exit, ok := errors.AsType[*exec.ExitError](err); ok {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, o := range []struct {
				name, got, want string
			}{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
				if o.want == "" && o.got != "" || !strings.Contains(o.got, o.want) {
					t.Errorf("%s:\n%s\nwant it to hold %q", o.name, o.got, o.want)
				}
			}
			if strings.Contains(strings.Join(tc.args, " "), "--json") {
				var rep checkReport
				if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
					t.Errorf("stdout is not a JSON report: %v", err)
				}
			}
		})
	}
}
