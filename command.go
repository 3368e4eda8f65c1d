package cors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "cors",
		Usage: "check <url> --origin <origin> [--method <method>] [--header 'Name: value']... [--credentials] [--json] [--timeout <duration>]",
		Short: "Checks a URL's CORS answers as a browser would",
		Long: `
Tools for the CORS protocol. "caddy cors check" requests a URL as a
browser's fetch() would from a page of the given origin, and says whether
the browser lets the script read the response, and if not, why.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(checkCommand())
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				return exitWith(cmd, exitUnchecked, fmt.Errorf("unknown command %q: the cors command has one subcommand, check", args[0]))
			}
		},
	})
}

// The exit codes of "caddy cors check", for scripts and CI.
const (
	exitAllowed   = 0
	exitBlocked   = 1
	exitUnchecked = 2 // bad arguments, or no answer to check
)

// defaultCheckTimeout bounds a whole check, preflight and actual request.
const defaultCheckTimeout = 10 * time.Second

const checkLong = `
Requests <url> as a browser's fetch() would from a page of the given origin,
and says whether the browser lets the script read the response, why not if
it does not, and the response header change that would allow it.

It applies the CORS rules of the Fetch standard
(https://fetch.spec.whatwg.org/#http-cors-protocol): it normalises the method
as fetch() does, decides whether a preflight is needed (a method other than
GET, HEAD and POST, or a header that is not CORS-safelisted), sends the
preflight as browsers do, checks its answer, then sends the actual request,
checks its answer, and lists the response headers the script can read.
A preflight refused as Caddy's cors handler refuses one (403, no
Access-Control-* header) gets a hint: the subdirectives of the cors block
that would allow it, and where the handler's debug log names the refused
part.

The actual request is really sent, without a body: with a method such as
DELETE it does what it says. Redirects are not followed: a redirected
preflight is blocked, as in browsers, and for a redirected actual request the
check stops and names the target to check next. --credentials makes it a
request with credentials: "include" (the checks that implies; no cookies are
sent). Same-origin requests are not governed by CORS and always allowed;
an https page fetching plain http (other than localhost) is blocked as mixed
content.

Exit status: 0 allowed, 1 blocked, 2 could not check (bad arguments, network
error, or a redirect not followed).
`

const checkExample = `  $ caddy cors check https://api.example.com/items --origin https://app.example.com
  $ caddy cors check https://api.example.com/items --origin https://app.example.com \
      --method PUT --header 'Content-Type: application/json' --header 'X-Api-Key: k'
  $ caddy cors check https://api.example.com/me --origin https://app.example.com --credentials --json`

// checkCommand builds "caddy cors check". It parses its own flags, so that a
// bad flag exits with status 2 like any other bad argument, rather than
// Cobra's 1, which means "blocked" here.
func checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                "check <url> --origin <origin> [--method <method>] [--header 'Name: value']... [--credentials] [--json] [--timeout <duration>]",
		Short:              "Checks a URL's CORS answers as a browser would",
		Long:               strings.TrimSpace(checkLong),
		Example:            checkExample,
		DisableFlagParsing: true,
	}
	fs := cmd.Flags()
	fs.String("origin", "", `origin of the page making the request, such as https://app.example.com, or "null" (required)`)
	fs.String("method", http.MethodGet, "request method, as the script writes it")
	fs.StringArray("header", nil, `request header the script sets, as 'Name: value' (repeatable)`)
	fs.Bool("credentials", false, `make the request with credentials: "include"`)
	fs.Bool("json", false, "print the report as JSON")
	fs.Duration("timeout", defaultCheckTimeout, "time limit of the whole check")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		code, err := runCheck(cmd, args, cmd.OutOrStdout())
		exit := exitWith(cmd, code, err)
		if err != nil && code == exitUnchecked {
			fmt.Fprintln(cmd.ErrOrStderr(), "Run 'caddy cors check --help' for usage.")
		}
		return exit
	}
	return cmd
}

// errBlocked ends the process with status 1 once the report is printed.
var errBlocked = errors.New("blocked")

// exitWith makes the process exit with code once RunE returns: Cobra's
// caller, caddycmd.Main, exits 1 on any plain error and with the code of the
// error caddycmd.WrapCommandFuncForCobra returns for codes above 1. err, if
// any, is printed on stderr.
func exitWith(cmd *cobra.Command, code int, err error) error {
	cmd.SilenceErrors = true // the messages are printed here, once
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", cmd.CommandPath(), err)
	}
	switch code {
	case exitAllowed:
		return nil
	case exitBlocked:
		return errBlocked
	}
	return caddycmd.WrapCommandFuncForCobra(func(caddycmd.Flags) (int, error) { return code, nil })(cmd, nil)
}

// runCheck parses the arguments, runs the check and prints the report. It
// returns the exit code, and the error to print on stderr, if any.
func runCheck(cmd *cobra.Command, args []string, stdout io.Writer) (int, error) {
	fs := cmd.Flags()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitAllowed, cmd.Help()
		}
		return exitUnchecked, err
	}
	if help, _ := fs.GetBool("help"); help {
		return exitAllowed, cmd.Help()
	}
	in, asJSON, timeout, err := checkArguments(fs)
	if err != nil {
		return exitUnchecked, err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := checkCORS(ctx, nil, in)
	if rep.Reason == reasonInvalidInput && !asJSON {
		return exitUnchecked, errors.New(rep.Message)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return exitUnchecked, err
		}
	} else {
		writeReport(stdout, &rep)
	}
	switch rep.Verdict {
	case verdictAllowed:
		return exitAllowed, nil
	case verdictBlocked:
		return exitBlocked, nil
	}
	return exitUnchecked, nil
}

// checkArguments reads the parsed flags and the URL argument.
func checkArguments(fs *pflag.FlagSet) (in checkInput, asJSON bool, timeout time.Duration, err error) {
	switch fs.NArg() {
	case 0:
		return in, false, 0, errors.New("no URL: give the URL to check, such as https://api.example.com/items")
	case 1:
	default:
		return in, false, 0, fmt.Errorf("one URL at a time, not %d: %q", fs.NArg(), fs.Args())
	}
	in.URL = fs.Arg(0)
	if in.Origin, _ = fs.GetString("origin"); !fs.Changed("origin") {
		return in, false, 0, errors.New(`--origin is required: the origin of the page that makes the request, such as https://app.example.com, or "null"`)
	}
	in.Method, _ = fs.GetString("method")
	headers, _ := fs.GetStringArray("header")
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return in, false, 0, fmt.Errorf("--header %q has no colon: write it as 'Name: value'", h)
		}
		in.Headers = append(in.Headers, headerPair{Name: name, Value: value})
	}
	in.Credentials, _ = fs.GetBool("credentials")
	asJSON, _ = fs.GetBool("json")
	if timeout, _ = fs.GetDuration("timeout"); timeout <= 0 {
		return in, false, 0, fmt.Errorf("--timeout %v is not positive", timeout)
	}
	return in, asJSON, timeout, nil
}

// writeReport prints a report for people: each request with the headers
// that mattered, then the verdict, the reason and the fix.
func writeReport(w io.Writer, r *checkReport) {
	if r.Preflight != nil {
		fmt.Fprintln(w, "Preflight, because")
		for _, why := range r.PreflightBecause {
			fmt.Fprintf(w, "  - %s\n", why)
		}
		writeStep(w, r.Preflight)
	}
	if r.Actual != nil {
		switch {
		case r.SameOrigin:
			fmt.Fprintln(w, "Request (same origin):")
		case r.Preflight != nil:
			fmt.Fprintln(w, "Actual request:")
		default:
			fmt.Fprintln(w, "Request (no preflight needed):")
		}
		writeStep(w, r.Actual)
	}
	if r.Verdict == verdictAllowed {
		fmt.Fprintf(w, "Readable response headers: %s\n\n", strings.Join(r.Readable, ", "))
	}
	switch r.Verdict {
	case verdictAllowed:
		fmt.Fprintln(w, "Verdict: allowed")
	case verdictBlocked:
		switch r.Step {
		case stepPreflight:
			fmt.Fprintln(w, "Verdict: blocked at the preflight")
		case stepActual:
			fmt.Fprintln(w, "Verdict: blocked at the actual request")
		default:
			fmt.Fprintln(w, "Verdict: blocked before any request")
		}
	default:
		fmt.Fprintln(w, "Verdict: could not check")
	}
	if r.Reason != "" {
		fmt.Fprintf(w, "Reason:  %s (%s)\n", r.Message, r.Reason)
	}
	if r.Fix != "" {
		fmt.Fprintf(w, "Fix:     %s\n", r.Fix)
	}
	if r.Hint != nil {
		label := "Hint:    "
		for line := range strings.SplitSeq(r.Hint.Message, "\n") {
			fmt.Fprintf(w, "%s%s\n", label, line)
			label = "         "
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note:    %s\n", n)
	}
}

// writeStep prints one request and its response, curl-style.
func writeStep(w io.Writer, s *checkStep) {
	fmt.Fprintf(w, "  > %s %s\n", s.Request.Method, s.Request.URL)
	for _, h := range s.Request.Headers {
		fmt.Fprintf(w, "  > %s: %s\n", h.Name, h.Value)
	}
	if s.Response == nil {
		fmt.Fprint(w, "  (no response)\n\n")
		return
	}
	fmt.Fprintf(w, "  < %d %s\n", s.Response.Status, http.StatusText(s.Response.Status))
	if len(s.Response.Headers) == 0 {
		fmt.Fprintln(w, "  < (no Access-Control-* header)")
	}
	for _, h := range s.Response.Headers {
		fmt.Fprintf(w, "  < %s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintln(w)
}
