package cors

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest/observer"
)

// pageOrigin is the origin of the page in the checks: another origin than
// the test servers', which listen on 127.0.0.1.
const pageOrigin = "https://app.example"

// craftedAnswer is what a crafted test server replies to one kind of request.
type craftedAnswer struct {
	status  int          // 0: 200
	headers []headerPair // added in order: one name twice makes two lines
}

// craftedServer answers OPTIONS requests with preflight and every other
// request with actual, and records the requests it gets.
type craftedServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newCraftedServer(t *testing.T, preflight, actual craftedAnswer) *craftedServer {
	s := &craftedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		a := actual
		if r.Method == http.MethodOptions {
			a = preflight
		}
		for _, h := range a.headers {
			w.Header().Add(h.Name, h.Value)
		}
		w.Header().Set("Date", "Sun, 22 Nov 2026 12:00:00 GMT")
		w.Header().Set("Content-Type", "application/json")
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *craftedServer) received() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// hp builds header pairs from "Name: value" strings.
func hp(lines ...string) []headerPair {
	var pairs []headerPair
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ": ")
		pairs = append(pairs, headerPair{name, value})
	}
	return pairs
}

var (
	allowAny       = craftedAnswer{headers: hp("Access-Control-Allow-Origin: *")}
	allowPage      = craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Vary: Origin")}
	allowPageCreds = craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Access-Control-Allow-Credentials: true", "Vary: Origin")}
	// refuseAll is a server that fails every request it gets: a check
	// that passes against it proves no request of that kind was made.
	refuseAll = craftedAnswer{status: 500}
)

// preflightAllowing answers a preflight with the given methods and
// headers from pageOrigin, without credentials.
func preflightAllowing(methods, headers string) craftedAnswer {
	a := craftedAnswer{status: 204, headers: hp("Access-Control-Allow-Origin: " + pageOrigin)}
	if methods != "" {
		a.headers = append(a.headers, headerPair{headerAllowMethods, methods})
	}
	if headers != "" {
		a.headers = append(a.headers, headerPair{headerAllowHeaders, headers})
	}
	return a
}

func withCreds(a craftedAnswer) craftedAnswer {
	a.headers = append(slices.Clone(a.headers), headerPair{headerAllowCredentials, "true"})
	return a
}

// checkCase is one check of TestCheckRules: the arguments after the URL,
// what the server answers, and what the browser decides.
type checkCase struct {
	name       string
	args       []string
	preflight  craftedAnswer
	actual     craftedAnswer
	verdict    verdict
	reason     reasonCode
	step       string
	preflights int
	status     int      // of the actual response; 0: none
	readable   []string // nil: not checked
}

// TestCheckRules runs "caddy cors check" against servers that answer with
// crafted headers: in each case one Fetch rule decides the verdict. It
// asserts the exit code, and the verdict, reason, number of preflights and
// status of the JSON report.
func TestCheckRules(t *testing.T) {
	origin := []string{"--origin", pageOrigin}
	args := func(extra ...string) []string { return append(slices.Clone(origin), extra...) }
	cases := []checkCase{
		// The CORS check of a simple request.
		{name: "simple request, any origin", args: args(), preflight: refuseAll, actual: allowAny,
			verdict: verdictAllowed, status: 200},
		{name: "simple request, the origin echoed", args: args(), preflight: refuseAll, actual: allowPage,
			verdict: verdictAllowed, status: 200},
		{name: "no Access-Control-Allow-Origin", args: args(), preflight: refuseAll, actual: craftedAnswer{},
			verdict: verdictBlocked, reason: reasonAllowOriginMissing, step: stepActual, status: 200},
		{name: "origin with a trailing slash", args: args(), preflight: refuseAll, actual: craftedAnswer{headers: hp("Access-Control-Allow-Origin: " + pageOrigin + "/")},
			verdict: verdictBlocked, reason: reasonAllowOriginMismatch, step: stepActual, status: 200},
		{name: "origin in another case", args: args(), preflight: refuseAll, actual: craftedAnswer{headers: hp("Access-Control-Allow-Origin: https://App.example")},
			verdict: verdictBlocked, reason: reasonAllowOriginMismatch, step: stepActual, status: 200},
		{name: "another origin", args: args(), preflight: refuseAll, actual: craftedAnswer{headers: hp("Access-Control-Allow-Origin: https://other.example")},
			verdict: verdictBlocked, reason: reasonAllowOriginMismatch, step: stepActual, status: 200},
		{name: "two Access-Control-Allow-Origin lines", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Access-Control-Allow-Origin: "+pageOrigin)},
			verdict: verdictBlocked, reason: reasonAllowOriginMultiple, step: stepActual, status: 200},
		{name: "a list of origins", args: args(), preflight: refuseAll, actual: craftedAnswer{headers: hp("Access-Control-Allow-Origin: " + pageOrigin + ", https://b.example")},
			verdict: verdictBlocked, reason: reasonAllowOriginMultiple, step: stepActual, status: 200},
		{name: "credentials refuse *", args: args("--credentials"), preflight: refuseAll, actual: withCreds(allowAny),
			verdict: verdictBlocked, reason: reasonAllowOriginWildcard, step: stepActual, status: 200},
		{name: "credentials need Access-Control-Allow-Credentials", args: args("--credentials"), preflight: refuseAll, actual: allowPage,
			verdict: verdictBlocked, reason: reasonAllowCredentials, step: stepActual, status: 200},
		{name: "Access-Control-Allow-Credentials is case-sensitive", args: args("--credentials"), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Access-Control-Allow-Credentials: True")},
			verdict: verdictBlocked, reason: reasonAllowCredentials, step: stepActual, status: 200},
		{name: "credentials allowed", args: args("--credentials"), preflight: refuseAll, actual: allowPageCreds,
			verdict: verdictAllowed, status: 200},
		{name: "Access-Control-Allow-Credentials is ignored without credentials", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Access-Control-Allow-Credentials: no")},
			verdict: verdictAllowed, status: 200},
		{name: "any status is readable", args: args(), preflight: refuseAll, actual: craftedAnswer{status: 503, headers: allowPage.headers},
			verdict: verdictAllowed, status: 503},
		{name: "null origin allowed by *", args: []string{"--origin", "null"}, preflight: refuseAll, actual: allowAny,
			verdict: verdictAllowed, status: 200},
		{name: "null origin allowed by null", args: []string{"--origin", "null"}, preflight: refuseAll, actual: craftedAnswer{headers: hp("Access-Control-Allow-Origin: null")},
			verdict: verdictAllowed, status: 200},
		{name: "null origin is not the page's origin", args: []string{"--origin", "null"}, preflight: refuseAll, actual: allowPage,
			verdict: verdictBlocked, reason: reasonAllowOriginMismatch, step: stepActual, status: 200},

		// When a preflight is needed.
		{name: "put is sent as PUT", args: args("--method", "put"), preflight: preflightAllowing("PUT", ""), actual: allowPage,
			verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "patch is sent as written", args: args("--method", "patch"), preflight: preflightAllowing("PATCH", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonMethodNotAllowed, step: stepPreflight, preflights: 1},
		{name: "a lower-case method listed as written", args: args("--method", "patch"), preflight: preflightAllowing("patch", ""), actual: allowPage,
			verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "POST of text/plain needs no preflight", args: args("--method", "post", "--header", "Content-Type: text/plain;charset=UTF-8"),
			preflight: refuseAll, actual: allowPage, verdict: verdictAllowed, status: 200},
		{name: "JSON needs a preflight", args: args("--method", "POST", "--header", "Content-Type: application/json"),
			preflight: preflightAllowing("", "x-other"), actual: allowPage,
			verdict: verdictBlocked, reason: reasonHeaderNotAllowed, step: stepPreflight, preflights: 1},
		{name: "a quoted Content-Type parameter needs a preflight", args: args("--header", `Content-Type: text/plain; charset="utf-8"`),
			preflight: preflightAllowing("", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonHeaderNotAllowed, step: stepPreflight, preflights: 1},
		{name: "an Accept with an unsafe byte needs a preflight", args: args("--header", "Accept: text/html(x)"),
			preflight: preflightAllowing("", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonHeaderNotAllowed, step: stepPreflight, preflights: 1},
		{name: "a safelisted Accept needs none", args: args("--header", "Accept: application/json"), preflight: refuseAll, actual: allowPage,
			verdict: verdictAllowed, status: 200},
		{name: "an Accept-Language with _ needs a preflight", args: args("--header", "Accept-Language: en_US"),
			preflight: preflightAllowing("", "accept-language"), actual: allowPage, verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "a safelisted Content-Language needs none", args: args("--header", "Content-Language: de-DE, en;q=0.5"), preflight: refuseAll, actual: allowPage,
			verdict: verdictAllowed, status: 200},
		{name: "a byte range needs none", args: args("--header", "Range: bytes=0-99"), preflight: refuseAll, actual: allowPage,
			verdict: verdictAllowed, status: 200},
		{name: "a suffix range needs a preflight", args: args("--header", "Range: bytes=-99"),
			preflight: preflightAllowing("", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonHeaderNotAllowed, step: stepPreflight, preflights: 1},
		{name: "a value over 128 bytes needs a preflight", args: args("--header", "Accept: "+strings.Repeat("a", 129)),
			preflight: preflightAllowing("", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonHeaderNotAllowed, step: stepPreflight, preflights: 1},
		{name: "safelisted values of 1024 bytes need none", args: args(repeatHeader("Accept: "+strings.Repeat("a", 128), 8)...),
			preflight: refuseAll, actual: allowPage, verdict: verdictAllowed, status: 200},
		{name: "safelisted values over 1024 bytes need a preflight", args: args(append(repeatHeader("Accept: "+strings.Repeat("a", 128), 8), "--header", "Content-Language: x")...),
			preflight: preflightAllowing("", "accept,content-language"), actual: allowPage, verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "header names are matched in any case", args: args("--header", "X-Api-Key: k"), preflight: preflightAllowing("", "X-API-KEY"), actual: allowPage,
			verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "a safelisted method needs no Access-Control-Allow-Methods", args: args("--method", "POST", "--header", "X-Api-Key: k"),
			preflight: preflightAllowing("PUT", "x-api-key"), actual: allowPage, verdict: verdictAllowed, preflights: 1, status: 200},

		// The preflight's answer.
		{name: "a preflight needs an ok status", args: args("--method", "DELETE"), preflight: craftedAnswer{status: 401, headers: preflightAllowing("DELETE", "").headers},
			actual: allowPage, verdict: verdictBlocked, reason: reasonPreflightStatus, step: stepPreflight, preflights: 1},
		{name: "a preflight is not redirected", args: args("--method", "DELETE"),
			preflight: craftedAnswer{status: 301, headers: append(hp("Location: /elsewhere"), preflightAllowing("DELETE", "").headers...)},
			actual:    allowPage, verdict: verdictBlocked, reason: reasonPreflightRedirect, step: stepPreflight, preflights: 1},
		{name: "a preflight needs Access-Control-Allow-Origin", args: args("--method", "DELETE"), preflight: craftedAnswer{status: 204, headers: hp("Access-Control-Allow-Methods: DELETE")},
			actual: allowPage, verdict: verdictBlocked, reason: reasonAllowOriginMissing, step: stepPreflight, preflights: 1},
		{name: "a credentialed preflight needs Access-Control-Allow-Credentials", args: args("--method", "DELETE", "--credentials"),
			preflight: preflightAllowing("DELETE", ""), actual: allowPageCreds,
			verdict: verdictBlocked, reason: reasonAllowCredentials, step: stepPreflight, preflights: 1},
		{name: "a malformed Access-Control-Allow-Methods", args: args("--method", "DELETE"), preflight: preflightAllowing("PUT DELETE", ""), actual: allowPage,
			verdict: verdictBlocked, reason: reasonAllowMethodsMalformed, step: stepPreflight, preflights: 1},
		{name: "a malformed Access-Control-Allow-Headers", args: args("--header", "X-Api-Key: k"), preflight: preflightAllowing("", "x-api-key, x custom"), actual: allowPage,
			verdict: verdictBlocked, reason: reasonAllowHeadersMalformed, step: stepPreflight, preflights: 1},
		{name: "methods as a list over lines", args: args("--method", "DELETE"),
			preflight: craftedAnswer{status: 204, headers: hp("Access-Control-Allow-Origin: "+pageOrigin, "Access-Control-Allow-Methods: PUT,, ", "Access-Control-Allow-Methods:  DELETE")},
			actual:    allowPage, verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "* allows any method", args: args("--method", "DELETE"), preflight: preflightAllowing("*", ""), actual: allowPage,
			verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "* is not a method wildcard with credentials", args: args("--method", "DELETE", "--credentials"),
			preflight: withCreds(preflightAllowing("*", "")), actual: allowPageCreds,
			verdict: verdictBlocked, reason: reasonAllowMethodsWildcard, step: stepPreflight, preflights: 1},
		{name: "* allows any header", args: args("--header", "X-Api-Key: k"), preflight: preflightAllowing("", "*"), actual: allowPage,
			verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "* is not a header wildcard with credentials", args: args("--header", "X-Api-Key: k", "--credentials"),
			preflight: withCreds(preflightAllowing("", "*")), actual: allowPageCreds,
			verdict: verdictBlocked, reason: reasonAllowHeadersWildcard, step: stepPreflight, preflights: 1},
		{name: "* does not cover Authorization", args: args("--header", "Authorization: Bearer t"), preflight: preflightAllowing("", "*"), actual: allowPage,
			verdict: verdictBlocked, reason: reasonAuthorizationNotUnderWildcard, step: stepPreflight, preflights: 1},
		{name: "Authorization listed by name beside *", args: args("--header", "Authorization: Bearer t", "--header", "X-Api-Key: k"),
			preflight: preflightAllowing("", "*, Authorization"), actual: allowPage, verdict: verdictAllowed, preflights: 1, status: 200},
		{name: "the actual response is checked again", args: args("--method", "DELETE"), preflight: preflightAllowing("DELETE", ""), actual: craftedAnswer{},
			verdict: verdictBlocked, reason: reasonAllowOriginMissing, step: stepActual, preflights: 1, status: 200},

		// Redirects are not followed.
		{name: "a redirect that passes the CORS check", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{status: 302, headers: append(hp("Location: https://other.example/next"), allowAny.headers...)},
			verdict: verdictError, reason: reasonRedirect, status: 302},
		{name: "a redirect that fails the CORS check", args: args(), preflight: refuseAll, actual: craftedAnswer{status: 307, headers: hp("Location: /next")},
			verdict: verdictBlocked, reason: reasonAllowOriginMissing, step: stepActual, status: 307},

		// What the script can read.
		{name: "exposed headers", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: x-request-id, X-Missing", "X-Request-Id: 1", "X-Hidden: 1", "Cache-Control: no-store")},
			verdict: verdictAllowed, status: 200, readable: []string{"Cache-Control", "Content-Length", "Content-Type", "X-Request-Id"}},
		{name: "* exposes all but Set-Cookie", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: *", "X-Request-Id: 1", "Set-Cookie: a=b")},
			verdict: verdictAllowed, status: 200,
			readable: []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Content-Length", "Content-Type", "Date", "X-Request-Id"}},
		{name: "* exposes nothing more with credentials", args: args("--credentials"), preflight: refuseAll,
			actual:  craftedAnswer{headers: append(hp("Access-Control-Expose-Headers: *", "X-Request-Id: 1"), allowPageCreds.headers...)},
			verdict: verdictAllowed, status: 200, readable: []string{"Content-Length", "Content-Type"}},
		{name: "a malformed Access-Control-Expose-Headers exposes nothing", args: args(), preflight: refuseAll,
			actual:  craftedAnswer{headers: hp("Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: x-request-id, x y", "X-Request-Id: 1")},
			verdict: verdictAllowed, status: 200, readable: []string{"Content-Length", "Content-Type"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCraftedServer(t, tc.preflight, tc.actual)
			rep, code := runCheckJSON(t, append([]string{srv.URL + "/r"}, tc.args...))
			assertReport(t, rep, tc)
			if want := map[verdict]int{verdictAllowed: 0, verdictBlocked: 1, verdictError: 2}[tc.verdict]; code != want {
				t.Errorf("exit code %d, want %d", code, want)
			}
			if got := len(srv.received()); got != tc.preflights+btoi(tc.status != 0) {
				t.Errorf("the server got %d requests, want %d", got, tc.preflights+btoi(tc.status != 0))
			}
		})
	}
}

// repeatHeader returns n --header flags for the header h.
func repeatHeader(h string, n int) []string {
	var args []string
	for range n {
		args = append(args, "--header", h)
	}
	return args
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runCheckJSON runs "caddy cors check --json" with args in this process,
// and returns its report and exit code.
func runCheckJSON(t *testing.T, args []string) (checkReport, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := checkCommand()
	code, err := runCheck(cmd, append(args, "--json"), &out)
	if err != nil {
		t.Fatalf("runCheck: %v (exit code %d)", err, code)
	}
	var rep checkReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the JSON report does not decode: %v\n%s", err, out.String())
	}
	return rep, code
}

func assertReport(t *testing.T, rep checkReport, tc checkCase) {
	t.Helper()
	if rep.Verdict != tc.verdict || rep.Reason != tc.reason || rep.Step != tc.step {
		t.Errorf("verdict %q, reason %q, step %q; want %q, %q, %q\nmessage: %s", rep.Verdict, rep.Reason, rep.Step, tc.verdict, tc.reason, tc.step, rep.Message)
	}
	if (rep.Verdict == verdictAllowed) != (rep.Message == "") || rep.Verdict == verdictBlocked && rep.Fix == "" {
		t.Errorf("verdict %q with message %q and fix %q", rep.Verdict, rep.Message, rep.Fix)
	}
	if got := rep.preflights(); got != tc.preflights {
		t.Errorf("%d preflights, want %d", got, tc.preflights)
	}
	if got := rep.actualStatus(); got != tc.status {
		t.Errorf("actual status %d, want %d", got, tc.status)
	}
	if tc.readable != nil && !slices.Equal(rep.Readable, tc.readable) {
		t.Errorf("readable headers %q, want %q", rep.Readable, tc.readable)
	}
}

// TestCheckSendsWhatBrowsersSend checks the requests on the wire: the
// preflight with the normalised method and the sorted lower-case unsafe
// names, and no credentials; the actual request with the script's headers,
// one line per name, and the cookies only with credentials.
func TestCheckSendsWhatBrowsersSend(t *testing.T) {
	for _, credentials := range []bool{false, true} {
		t.Run(map[bool]string{false: "without credentials", true: "with credentials"}[credentials], func(t *testing.T) {
			srv := newCraftedServer(t, withCreds(preflightAllowing("PUT", "authorization,content-type,x-a,x-b")), allowPageCreds)
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(srv.URL)
			jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "s"}})
			rep := checkCORS(context.Background(), &http.Client{Jar: jar}, checkInput{
				URL:         srv.URL + "/items/1?q=1#fragment",
				Origin:      pageOrigin,
				Method:      "put",
				Headers:     hp("X-B: 1", "Content-Type: application/json", "x-a:  1 ", "X-A: 2", "Authorization: Bearer t"),
				Credentials: credentials,
			})
			if rep.Verdict != verdictAllowed || rep.preflights() != 1 || rep.actualStatus() != 200 {
				t.Fatalf("verdict %q (%s), %d preflights, status %d", rep.Verdict, rep.Message, rep.preflights(), rep.actualStatus())
			}
			reqs := srv.received()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			pre, act := reqs[0], reqs[1]
			for _, c := range []struct{ what, got, want string }{
				{"preflight method", pre.Method, "OPTIONS"},
				{"preflight URL", pre.URL.String(), "/items/1?q=1"},
				{"preflight Origin", strings.Join(pre.Header.Values("Origin"), "|"), pageOrigin},
				{"preflight Accept", pre.Header.Get("Accept"), "*/*"},
				{"Access-Control-Request-Method", pre.Header.Get(headerRequestMethod), "PUT"},
				{"Access-Control-Request-Headers", strings.Join(pre.Header.Values(headerRequestHeaders), "|"), "authorization,content-type,x-a,x-b"},
				{"preflight Cookie", pre.Header.Get("Cookie"), ""},
				{"preflight Authorization", pre.Header.Get("Authorization"), ""},
				{"preflight X-A", pre.Header.Get("X-A"), ""},
				{"actual method", act.Method, "PUT"},
				{"actual Origin", act.Header.Get("Origin"), pageOrigin},
				{"actual X-A", strings.Join(act.Header.Values("X-A"), "|"), "1, 2"},
				{"actual Authorization", act.Header.Get("Authorization"), "Bearer t"},
				{"actual Cookie", act.Header.Get("Cookie"), map[bool]string{false: "", true: "session=s"}[credentials]},
			} {
				if c.got != c.want {
					t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestCheckOverHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerAllowOrigin, pageOrigin)
		w.Header().Set(headerAllowMethods, "DELETE")
	}))
	defer srv.Close()
	rep := checkCORS(context.Background(), srv.Client(), checkInput{URL: srv.URL, Origin: pageOrigin, Method: "delete"})
	if rep.Verdict != verdictAllowed || rep.preflights() != 1 {
		t.Errorf("verdict %q (%s), %d preflights", rep.Verdict, rep.Message, rep.preflights())
	}
	// Without the test certificate, the check cannot be made.
	rep = checkCORS(context.Background(), &http.Client{}, checkInput{URL: srv.URL, Origin: pageOrigin})
	if rep.Verdict != verdictError || rep.Reason != reasonNetworkError {
		t.Errorf("untrusted certificate: verdict %q, reason %q", rep.Verdict, rep.Reason)
	}
}

// TestCheckSameOrigin checks that a request to the page's own origin is
// neither preflighted nor CORS-checked, and that every header but
// Set-Cookie is readable.
func TestCheckSameOrigin(t *testing.T) {
	srv := newCraftedServer(t, refuseAll, craftedAnswer{status: 500, headers: hp("X-Private: 1", "Set-Cookie: a=b")})
	var out bytes.Buffer
	code, err := runCheck(checkCommand(), []string{srv.URL + "/r", "--origin", srv.URL, "--method", "PUT", "--header", "X-Api-Key: k"}, &out)
	if err != nil || code != exitAllowed {
		t.Fatalf("exit code %d, %v\n%s", code, err, out.String())
	}
	for _, want := range []string{"Request (same origin):", "  > Origin: " + srv.URL, "Readable response headers: Content-Length, Content-Type, Date, X-Private\n", "Verdict: allowed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if reqs := srv.received(); len(reqs) != 1 || reqs[0].Method != "PUT" {
		t.Errorf("the server got %d requests, want one PUT", len(reqs))
	}
	// A same-origin GET carries no Origin.
	rep := checkCORS(context.Background(), nil, checkInput{URL: srv.URL + "/r", Origin: srv.URL})
	if rep.Verdict != verdictAllowed || !rep.SameOrigin {
		t.Errorf("GET: verdict %q, same origin %v", rep.Verdict, rep.SameOrigin)
	}
	if reqs := srv.received(); len(reqs) != 2 || reqs[1].Header.Get("Origin") != "" {
		t.Errorf("a same-origin GET carried Origin %q", reqs[len(reqs)-1].Header.Get("Origin"))
	}
}

func TestCheckMixedContent(t *testing.T) {
	rep := checkCORS(context.Background(), nil, checkInput{URL: "http://192.0.2.1/api", Origin: "https://app.example"})
	if rep.Verdict != verdictBlocked || rep.Reason != reasonMixedContent || rep.Actual != nil || rep.Preflight != nil {
		t.Errorf("verdict %q, reason %q, steps %v %v", rep.Verdict, rep.Reason, rep.Preflight, rep.Actual)
	}
	if !strings.Contains(rep.Fix, "https://192.0.2.1/api") {
		t.Errorf("fix %q", rep.Fix)
	}
}

// TestCheckRedirectTarget checks the next check a redirect suggests: with
// the page's origin within the same origin, with "null" across origins.
func TestCheckRedirectTarget(t *testing.T) {
	for _, tc := range []struct{ location, want string }{
		{"/next", "/next --origin " + pageOrigin},
		{"https://other.example/next", "https://other.example/next --origin null"},
	} {
		srv := newCraftedServer(t, refuseAll, craftedAnswer{status: 308, headers: hp("Location: "+tc.location, "Access-Control-Allow-Origin: *")})
		rep := checkCORS(context.Background(), nil, checkInput{URL: srv.URL + "/r", Origin: pageOrigin})
		if rep.Verdict != verdictError || rep.Reason != reasonRedirect || !strings.HasSuffix(rep.Fix, tc.want) {
			t.Errorf("%s: verdict %q, reason %q, fix %q; want a fix ending in %q", tc.location, rep.Verdict, rep.Reason, rep.Fix, tc.want)
		}
	}
}

// TestCheckRefusesInput checks that what fetch() would refuse, or a script
// could not send, is refused with a clear message and exit code 2, before
// any request.
func TestCheckRefusesInput(t *testing.T) {
	srv := newCraftedServer(t, allowAny, allowAny)
	u := srv.URL + "/r"
	for _, tc := range []struct {
		name string
		args []string
		want string // in the message
	}{
		{"no URL", []string{"--origin", pageOrigin}, "no URL"},
		{"two URLs", []string{u, u, "--origin", pageOrigin}, "one URL at a time"},
		{"no origin", []string{u}, "--origin is required"},
		{"an unknown flag", []string{u, "--origin", pageOrigin, "--bogus"}, "unknown flag: --bogus"},
		{"a flag without its value", []string{u, "--origin"}, "flag needs an argument"},
		{"an origin with a path", []string{u, "--origin", pageOrigin + "/"}, `has a path ("/")`},
		{"an origin pattern", []string{u, "--origin", "https://*.example.com"}, "is a pattern"},
		{"an origin without a scheme", []string{u, "--origin", "app.example"}, "has no scheme"},
		{"an empty origin", []string{u, "--origin", ""}, "no origin"},
		{"a forbidden method", []string{u, "--origin", pageOrigin, "--method", "trace"}, "forbidden"},
		{"CONNECT", []string{u, "--origin", pageOrigin, "--method", "CONNECT"}, "forbidden"},
		{"a method that is not a token", []string{u, "--origin", pageOrigin, "--method", "GE T"}, "is not a method name"},
		{"a forbidden header", []string{u, "--origin", pageOrigin, "--header", "Cookie: a=b"}, "Cookie is forbidden"},
		{"a Sec- header", []string{u, "--origin", pageOrigin, "--header", "Sec-Fetch-Mode: cors"}, "is forbidden"},
		{"a method override naming a forbidden method", []string{u, "--origin", pageOrigin, "--header", "X-HTTP-Method-Override: TRACE"}, "is forbidden"},
		{"a header without a colon", []string{u, "--origin", pageOrigin, "--header", "X-Api-Key k"}, "has no colon"},
		{"a header name that is not a token", []string{u, "--origin", pageOrigin, "--header", "X Api: k"}, "is not a header name"},
		{"a header value with a newline", []string{u, "--origin", pageOrigin, "--header", "X-Api: a\nb"}, "NUL, CR or LF"},
		{"a timeout of zero", []string{u, "--origin", pageOrigin, "--timeout", "0s"}, "is not positive"},
		{"a URL that is not http", []string{"ftp://example.com/", "--origin", pageOrigin}, "not an absolute http or https URL"},
		{"a relative URL", []string{"/api", "--origin", pageOrigin}, "not an absolute http or https URL"},
		{"a URL with a password", []string{"http://user:pw@127.0.0.1/", "--origin", pageOrigin}, "user name or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := runCheck(checkCommand(), tc.args, &out)
			if code != exitUnchecked || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exit code %d, error %v; want 2 and %q", code, err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed a report:\n%s", out.String())
			}
		})
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
	// --json reports a refused input as a document too.
	rep, code := runCheckJSON(t, []string{u, "--origin", pageOrigin, "--method", "TRACK"})
	if code != exitUnchecked || rep.Verdict != verdictError || rep.Reason != reasonInvalidInput {
		t.Errorf("--json: exit code %d, verdict %q, reason %q", code, rep.Verdict, rep.Reason)
	}
}

func TestCheckNetworkErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"connection refused", []string{closed.URL, "--origin", pageOrigin, "--method", "PUT"}},
		{"timeout", []string{hang.URL, "--origin", pageOrigin, "--timeout", "50ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, code := runCheckJSON(t, tc.args)
			if code != exitUnchecked || rep.Verdict != verdictError || rep.Reason != reasonNetworkError || rep.Message == "" {
				t.Errorf("exit code %d, verdict %q, reason %q, message %q", code, rep.Verdict, rep.Reason, rep.Message)
			}
		})
	}
}

// TestCheckHumanOutput checks that the printed report shows the requests,
// the headers that mattered, the verdict, the reason and the fix.
func TestCheckHumanOutput(t *testing.T) {
	srv := newCraftedServer(t, preflightAllowing("PUT", "content-type"), allowPage)
	var out bytes.Buffer
	code, err := runCheck(checkCommand(), []string{srv.URL + "/items", "--origin", pageOrigin, "--method", "put",
		"--header", "Content-Type: application/json", "--header", "X-Api-Key: k"}, &out)
	if err != nil || code != exitBlocked {
		t.Fatalf("exit code %d, %v", code, err)
	}
	want := `Preflight, because
  - the method PUT is not CORS-safelisted (GET, HEAD, POST)
  - the header Content-Type is "application/json": only the MIME types application/x-www-form-urlencoded, multipart/form-data and text/plain are safelisted
  - the header X-Api-Key is not CORS-safelisted (only Accept, Accept-Language, Content-Language, Content-Type and Range can be)
  > OPTIONS ` + srv.URL + `/items
  > Accept: */*
  > Origin: https://app.example
  > Access-Control-Request-Method: PUT
  > Access-Control-Request-Headers: content-type,x-api-key
  < 204 No Content
  < Access-Control-Allow-Headers: content-type
  < Access-Control-Allow-Methods: PUT
  < Access-Control-Allow-Origin: https://app.example

Verdict: blocked at the preflight
Reason:  Access-Control-Allow-Headers lacks "x-api-key" (header-not-allowed)
Fix:     add x-api-key to Access-Control-Allow-Headers
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestCheckFixOfRefusedPreflight checks that a preflight answered without
// any CORS header gets, as its fix, the whole answer that would allow it.
func TestCheckFixOfRefusedPreflight(t *testing.T) {
	srv := newCraftedServer(t, craftedAnswer{status: 403}, refuseAll)
	rep := checkCORS(context.Background(), nil, checkInput{URL: srv.URL, Origin: pageOrigin, Method: "PATCH",
		Headers: hp("X-B: 1", "X-A: 1"), Credentials: true})
	want := "answer the preflight with Access-Control-Allow-Origin: https://app.example; Access-Control-Allow-Credentials: true; " +
		"Access-Control-Allow-Methods: PATCH; Access-Control-Allow-Headers: x-a, x-b"
	if rep.Reason != reasonAllowOriginMissing || rep.Fix != want {
		t.Errorf("reason %q, fix:\n%s\nwant:\n%s", rep.Reason, rep.Fix, want)
	}
}

// TestCheckKeepsEncodingHeaders checks that a compressed response's
// Content-Encoding and Content-Length are reported as a browser sees them.
func TestCheckKeepsEncodingHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set(headerAllowOrigin, "*")
		w.Header().Set(headerExposeHeaders, "Content-Encoding")
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = gz.Write([]byte(`{}`))
		_ = gz.Close()
	}))
	defer srv.Close()
	rep := checkCORS(context.Background(), nil, checkInput{URL: srv.URL, Origin: pageOrigin})
	if want := []string{"Content-Encoding", "Content-Length"}; !slices.Equal(rep.Readable, want) {
		t.Errorf("readable headers %q, want %q", rep.Readable, want)
	}
}

// handlerServer serves the cors handler of the JSON policy in front of a
// 200 "ok", and returns its URL and the handler's debug log.
func handlerServer(t *testing.T, policy string) (string, *observer.ObservedLogs) {
	t.Helper()
	h, logs := provision(t, policy)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.ServeHTTP(w, r, respond); err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// hintPolicy is the policy of the handler in the hint tests.
const hintPolicy = `{"allowed_origins": ["https://app.example"], "allowed_methods": ["PUT", "PATCH"], "allowed_headers": ["Content-Type"], "allow_credentials": true}`

// TestCheckRefusalHint checks when a report carries the hint of a preflight
// refused as the cors handler refuses one, how sure it is, and which
// subdirectives it names: against the handler itself, whose debug log must
// name a part of the preflight that the hint lists, and against servers
// that answer with crafted headers.
func TestCheckRefusalHint(t *testing.T) {
	crafted := func(preflight craftedAnswer) func(*testing.T) (string, *observer.ObservedLogs) {
		return func(t *testing.T) (string, *observer.ObservedLogs) {
			return newCraftedServer(t, preflight, refuseAll).URL, nil
		}
	}
	handler := func(t *testing.T) (string, *observer.ObservedLogs) { return handlerServer(t, hintPolicy) }
	handlerVary := "Vary: " + preflightVary
	for _, tc := range []struct {
		name       string
		server     func(*testing.T) (string, *observer.ObservedLogs)
		args       []string // after the URL
		recognised string   // "": no hint
		subs       []string
		meant      string
	}{
		{"the handler refuses a method", handler,
			[]string{"--origin", pageOrigin, "--method", "DELETE", "--header", "X-Api-Key: k", "--header", "Content-Type: application/json", "--credentials"},
			recognisedByVary, []string{"origins " + pageOrigin, "methods DELETE", "headers content-type x-api-key", "credentials"}, ""},
		{"the handler refuses an origin", handler, []string{"--origin", "https://evil.example", "--method", "PUT"},
			recognisedByVary, []string{"origins https://evil.example", "methods PUT"}, ""},
		{"the handler refuses a header", handler, []string{"--origin", pageOrigin, "--header", "X-Api-Key: k"},
			recognisedByVary, []string{"origins " + pageOrigin, "headers x-api-key"}, ""},
		{"the handler refuses a lower-case method", handler, []string{"--origin", pageOrigin, "--method", "patch"},
			recognisedByVary, []string{"origins " + pageOrigin, "methods patch"}, "PATCH"},
		{"the handler refuses Origin null", handler, []string{"--origin", "null", "--method", "PUT"},
			recognisedByVary, []string{"origins *", "methods PUT"}, ""},
		{"Origin null with credentials: no cors block allows it", handler, []string{"--origin", "null", "--method", "PUT", "--credentials"},
			"", nil, ""},
		{"the Vary over two lines, in lower case", crafted(craftedAnswer{status: 403, headers: hp("vary: origin", "Vary: access-control-request-headers ,access-control-request-method")}),
			[]string{"--origin", pageOrigin, "--method", "PUT"}, recognisedByVary, []string{"origins " + pageOrigin, "methods PUT"}, ""},
		{"a 403 without the handler's Vary", crafted(craftedAnswer{status: 403}), []string{"--origin", pageOrigin, "--method", "PUT"},
			recognisedByStatus, []string{"origins " + pageOrigin, "methods PUT"}, ""},
		{"a 403 with part of the handler's Vary", crafted(craftedAnswer{status: 403, headers: hp("Vary: Origin, Access-Control-Request-Method")}),
			[]string{"--origin", pageOrigin, "--method", "PUT"}, recognisedByStatus, []string{"origins " + pageOrigin, "methods PUT"}, ""},
		{"a 403 with an Access-Control-* header is not the handler's", crafted(craftedAnswer{status: 403, headers: hp("Access-Control-Max-Age: 5", handlerVary)}),
			[]string{"--origin", pageOrigin, "--method", "PUT"}, "", nil, ""},
		{"a 404 is not the handler's", crafted(craftedAnswer{status: 404, headers: hp(handlerVary)}), []string{"--origin", pageOrigin, "--method", "PUT"},
			"", nil, ""},
		{"a 401 is not the handler's", crafted(craftedAnswer{status: 401}), []string{"--origin", pageOrigin, "--method", "PUT"}, "", nil, ""},
		{"a lower-case method allowed as written", crafted(preflightAllowing("patch", "")), []string{"--origin", pageOrigin, "--method", "patch"},
			"", nil, "PATCH"},
		{"a mixed-case WebDAV method", crafted(preflightAllowing("PROPFIND", "")), []string{"--origin", pageOrigin, "--method", "PropFind"},
			"", nil, "PROPFIND"},
		{"a lower-case method that is not a common one", crafted(preflightAllowing("frobnicate", "")), []string{"--origin", pageOrigin, "--method", "frobnicate"},
			"", nil, ""},
		{"an upper-case PATCH", crafted(preflightAllowing("PATCH", "")), []string{"--origin", pageOrigin, "--method", "PATCH"}, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, logs := tc.server(t)
			rep, _ := runCheckJSON(t, append([]string{url + "/r"}, tc.args...))
			if rep.MeantMethod != tc.meant {
				t.Errorf("meant_method %q, want %q", rep.MeantMethod, tc.meant)
			}
			if tc.recognised == "" {
				if rep.Hint != nil {
					t.Errorf("hint %+v, want none", rep.Hint)
				}
				return
			}
			if rep.Hint == nil {
				t.Fatalf("no hint; report: %s (%s)", rep.Message, rep.Reason)
			}
			if rep.Hint.RecognisedBy != tc.recognised || !slices.Equal(rep.Hint.Subdirectives, tc.subs) {
				t.Errorf("hint recognised by %q, subdirectives %q; want %q, %q", rep.Hint.RecognisedBy, rep.Hint.Subdirectives, tc.recognised, tc.subs)
			}
			if logs == nil {
				return
			}
			// The handler's debug log names a part that the hint lists.
			entries := logs.FilterMessage("preflight refused").All()
			if len(entries) != 1 {
				t.Fatalf("%d preflight refused log entries, want 1", len(entries))
			}
			refused, _ := entries[0].ContextMap()["refused"].(string)
			if !slices.ContainsFunc(rep.Hint.Subdirectives, func(s string) bool { return slices.Contains(strings.Fields(s)[1:], refused) }) &&
				!(refused == "null" && slices.Contains(rep.Hint.Subdirectives, "origins *")) {
				t.Errorf("the handler logged the refused part %q, which the hint's %q lacks", refused, rep.Hint.Subdirectives)
			}
		})
	}
}

// TestCheckHintOutput checks the text of the hint and of the note on a
// method in the wrong case, as the report prints them.
func TestCheckHintOutput(t *testing.T) {
	handlerURL, _ := handlerServer(t, hintPolicy)
	other := newCraftedServer(t, craftedAnswer{status: 403}, refuseAll)
	for _, tc := range []struct {
		name string
		url  string
		args []string
		want string // the report from its Verdict line
	}{
		{"the handler, with credentials", handlerURL, []string{"--origin", pageOrigin, "--method", "DELETE", "--header", "X-Api-Key: k", "--credentials"}, `Verdict: blocked at the preflight
Reason:  the preflight response has no Access-Control-Allow-Origin, nor any Access-Control-Allow-* header: the server does not answer preflights at this URL, or it refused this one (its origin, method or headers) (allow-origin-missing)
Fix:     answer the preflight with Access-Control-Allow-Origin: https://app.example; Access-Control-Allow-Credentials: true; Access-Control-Allow-Methods: DELETE; Access-Control-Allow-Headers: x-api-key
Hint:    A 403 without any Access-Control-* header, with Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, is how Caddy's cors handler refuses a preflight.
         Its cors block needs these subdirectives to allow the request as sent, and lacks one or more of them (the answer does not say which):
           origins https://app.example
           methods DELETE
           headers x-api-key
           credentials
         The handler's debug log names the refused part: with the global option debug, its line "preflight refused" (logger http.handlers.cors) gives it in the fields reason and refused.
`},
		{"a lower-case method, refused by the handler", handlerURL, []string{"--origin", pageOrigin, "--method", "patch"}, `Verdict: blocked at the preflight
Reason:  the preflight response has no Access-Control-Allow-Origin, nor any Access-Control-Allow-* header: the server does not answer preflights at this URL, or it refused this one (its origin, method or headers) (allow-origin-missing)
Fix:     answer the preflight with Access-Control-Allow-Origin: https://app.example; Access-Control-Allow-Methods: patch
Hint:    Did you mean PATCH? The script sends "patch" as written (see the note), and "methods PATCH" does not allow it: write PATCH in the script.
         A 403 without any Access-Control-* header, with Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, is how Caddy's cors handler refuses a preflight.
         Its cors block needs these subdirectives to allow the request as sent, and lacks one or more of them (the answer does not say which):
           origins https://app.example
           methods patch
         The handler's debug log names the refused part: with the global option debug, its line "preflight refused" (logger http.handlers.cors) gives it in the fields reason and refused.
Note:    the method "patch" is sent as written, since fetch() upper-cases only DELETE, GET, HEAD, OPTIONS, POST and PUT; methods are case-sensitive, and servers, Caddy's cors handler included, compare them so: did you mean PATCH?
`},
		{"another server's 403", other.URL, []string{"--origin", pageOrigin, "--method", "PUT"}, `Verdict: blocked at the preflight
Reason:  the preflight response has no Access-Control-Allow-Origin, nor any Access-Control-Allow-* header: the server does not answer preflights at this URL, or it refused this one (its origin, method or headers) (allow-origin-missing)
Fix:     answer the preflight with Access-Control-Allow-Origin: https://app.example; Access-Control-Allow-Methods: PUT
Hint:    A 403 without any Access-Control-* header is how Caddy's cors handler refuses a preflight; without its Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, this may be another server.
         If it is, its cors block needs these subdirectives to allow the request as sent, and lacks one or more of them (the answer does not say which):
           origins https://app.example
           methods PUT
         The handler's debug log names the refused part: with the global option debug, its line "preflight refused" (logger http.handlers.cors) gives it in the fields reason and refused.
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code, err := runCheck(checkCommand(), append([]string{tc.url + "/r"}, tc.args...), &out); err != nil || code != exitBlocked {
				t.Fatalf("exit code %d, %v", code, err)
			}
			_, got, _ := strings.Cut(out.String(), "\n\nVerdict: ")
			if got = "Verdict: " + got; got != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tc.want)
			}
			// The JSON report's hint message is the text of the Hint lines.
			rep, _ := runCheckJSON(t, append([]string{tc.url + "/r"}, tc.args...))
			var lines []string
			for l := range strings.SplitSeq(tc.want, "\n") {
				if l, ok := strings.CutPrefix(l, "Hint:    "); ok || len(lines) > 0 && strings.HasPrefix(l, "         ") {
					lines = append(lines, strings.TrimPrefix(l, "         "))
				} else if len(lines) > 0 {
					break
				}
			}
			if rep.Hint == nil || rep.Hint.Message != strings.Join(lines, "\n") {
				t.Errorf("JSON hint %+v, want the message\n%s", rep.Hint, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestCheckAuthorizationNote checks the note on a literal "*" that covers
// Authorization in every major engine but not in the standard.
func TestCheckAuthorizationNote(t *testing.T) {
	srv := newCraftedServer(t, preflightAllowing("", "*"), allowPage)
	rep := checkCORS(context.Background(), nil, checkInput{URL: srv.URL, Origin: pageOrigin, Headers: hp("Authorization: Bearer t")})
	want := []string{`all three major engines (seen in Chromium 156, Firefox 153 and WebKitGTK 2.50) still let "*" cover Authorization, ` +
		"against the standard (Chromium with a deprecation warning), so this request works in them for now; " +
		"this check follows the standard, which whatwg/fetch#1919 discusses changing"}
	if rep.Reason != reasonAuthorizationNotUnderWildcard || !slices.Equal(rep.Notes, want) {
		t.Errorf("reason %q, notes:\n%q\nwant:\n%q", rep.Reason, rep.Notes, want)
	}
}
