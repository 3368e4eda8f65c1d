package cors

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// Caddy, which the integration tests run inside this process, writes its
// logs to standard error: its startup, each configuration load, the admin
// API's requests, TLS handshake errors, and what caddytest writes through
// the standard logger, which Caddy redirects into its own. go test shows a
// package's standard error even when every test passed, so TestMain holds
// Caddy's log lines back and shows them only when a test failed.
//
// File descriptor 2 itself goes to a pipe, not just os.Stderr: the loggers
// that Caddy and certmagic create when the package is initialised write to
// the descriptor they found then. The pipe is read by a log keeper, a
// second run of this test binary, which passes every other line on to the
// real standard error as it comes, and outlives the tests: when they end
// without TestMain saying how (a panic, a test timeout, a fatal error, or
// caddytest's Caddy failing to start and calling os.Exit), the keeper still
// passes the crash on and shows Caddy's logs. It ignores the signals of a
// Ctrl-C or Ctrl-\ in the terminal, which reach it too, to show what the
// tests left.
//
// Under go test -json, m.Run points os.Stderr at os.Stdout, and the loggers
// Caddy creates from then on write to standard output, as test output.

// logKeeperEnv marks the log keeper's run of the test binary.
const logKeeperEnv = "CADDY_CORS_TEST_LOG_KEEPER"

// The lines TestMain writes to standard error when the tests are over,
// after anything else on the line; the keeper takes them out.
var (
	passedMarker = []byte("\x00caddy-cors: the tests passed\n")
	failedMarker = []byte("\x00caddy-cors: a test failed\n")
)

// caddyLogLine matches a log entry of Caddy or of a library it logs
// through: Caddy's default logger writes JSON objects whose first key is
// the level when standard error is not a terminal, which it is not once
// redirected; certmagic's own default logger writes tab-separated lines,
// the time and the level first.
var caddyLogLine = regexp.MustCompile(`^(\{"level":|[^\t\n]+\t(?i:debug|info|warn|error|dpanic|panic|fatal)\t)`)

// holdCaddyLogs starts the log keeper and points standard error at it. It
// returns what TestMain calls when the tests are over: it tells the keeper
// whether a test failed, and waits until the keeper has shown Caddy's logs
// if one did, so that what TestMain prints next comes after them. Standard
// error stays with the keeper: Caddy runs until the process exits, and the
// keeper drops what it logs from then on. If the keeper cannot be started,
// Caddy's logs reach standard error as they come.
func holdCaddyLogs() (release func(failed bool)) {
	noop := func(bool) {}
	if !canRedirectStderr {
		return noop
	}
	exe, err := os.Executable()
	if err != nil {
		return noop
	}
	r, w, err := os.Pipe()
	if err != nil {
		return noop
	}
	defer w.Close()
	ack, ackW, err := os.Pipe() // the keeper writes a line there at each marker
	if err != nil {
		r.Close()
		return noop
	}
	keeper := exec.Command(exe)
	keeper.Env = append(os.Environ(), logKeeperEnv+"=1")
	keeper.Stdin, keeper.Stdout, keeper.Stderr = r, ackW, os.Stderr
	err = keeper.Start()
	r.Close()
	ackW.Close()
	if err == nil {
		err = redirectStderr(w)
	}
	if err != nil {
		// The keeper, if it started, reads the end of its input and exits.
		ack.Close()
		return noop
	}
	// With -test.v=test2json (go test -json), m.Run points os.Stderr at
	// os.Stdout: the markers go to descriptor 2 through this file.
	stderr := os.Stderr
	return func(failed bool) {
		marker := passedMarker
		if failed {
			marker = failedMarker
		}
		_, _ = stderr.Write(marker)
		_, _ = bufio.NewReader(ack).ReadString('\n')
	}
}

// runLogKeeper is the log keeper's run of the test binary: it keeps the
// logs of the tests on its standard input, and exits.
func runLogKeeper() {
	signal.Ignore(os.Interrupt, syscall.SIGQUIT, syscall.SIGTERM)
	keepLogs(os.Stdin, os.Stdout, os.Stderr)
	os.Exit(0)
}

// keepLogs is the log keeper: it reads what the tests write to standard
// error from in, holds Caddy's log lines, and passes every other line on to
// out. At failedMarker it shows the held lines on out; at either marker it
// writes a line to ack and drops Caddy's later lines. If in ends before a
// marker, the tests did not finish, and it shows the held lines then.
func keepLogs(in io.Reader, ack, out io.Writer) {
	var held bytes.Buffer
	lines, holding := 0, true
	show := func(note string) {
		if lines > 0 {
			noun := "lines"
			if lines == 1 {
				noun = "line"
			}
			fmt.Fprintf(out, "Caddy's logs, held back while the tests ran (%d %s%s):\n", lines, noun, note)
			_, _ = out.Write(held.Bytes())
		}
	}
	br := bufio.NewReader(in)
	for {
		line, err := br.ReadBytes('\n')
		var marker []byte
		for _, m := range [][]byte{passedMarker, failedMarker} {
			if bytes.HasSuffix(line, m) {
				line, marker = line[:len(line)-len(m)], m
			}
		}
		switch {
		case caddyLogLine.Match(line):
			if holding {
				held.Write(line)
				lines++
			}
		case len(line) > 0:
			_, _ = out.Write(line)
		}
		if marker != nil {
			if holding && bytes.Equal(marker, failedMarker) {
				show("")
			}
			holding = false
			_, _ = ack.Write([]byte("\n"))
		}
		if err != nil {
			break
		}
	}
	if holding {
		show("; the tests ended before TestMain could say how")
	}
}

// TestKeepLogs feeds the log keeper what the tests may write to standard
// error, and checks what it passes on and when it acknowledges a marker.
func TestKeepLogs(t *testing.T) {
	const (
		caddyLine   = `{"level":"info","ts":1,"logger":"admin.api","msg":"load complete"}` + "\n"
		certmagic   = "1.7e+09\tinfo\t[FileStorage:/tmp] lock is stale\n"
		otherLine   = "testing: warning: no tests to run\n"
		panicLine   = "panic: boom\n"
		heading     = "Caddy's logs, held back while the tests ran (2 lines):\n"
		headingDied = "Caddy's logs, held back while the tests ran (2 lines; the tests ended before TestMain could say how):\n"
	)
	for _, tc := range []struct {
		name, in, wantOut, wantAck string
	}{
		{"the tests passed",
			caddyLine + otherLine + certmagic + string(passedMarker) + caddyLine + panicLine,
			otherLine + panicLine, "\n"},
		{"a test failed",
			caddyLine + otherLine + certmagic + string(failedMarker) + caddyLine,
			otherLine + heading + caddyLine + certmagic, "\n"},
		{"the marker after a partial line",
			caddyLine + "no newline" + string(failedMarker),
			"no newline" + "Caddy's logs, held back while the tests ran (1 line):\n" + caddyLine, "\n"},
		{"the tests died",
			caddyLine + panicLine + certmagic,
			panicLine + headingDied + caddyLine + certmagic, ""},
		{"nothing of Caddy's",
			otherLine + string(passedMarker),
			otherLine, "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, ack bytes.Buffer
			keepLogs(strings.NewReader(tc.in), &ack, &out)
			if out.String() != tc.wantOut {
				t.Errorf("passed on\n%q\nwant\n%q", out.String(), tc.wantOut)
			}
			if ack.String() != tc.wantAck {
				t.Errorf("acknowledged %q, want %q", ack.String(), tc.wantAck)
			}
		})
	}
}

// logsChildEnv holds what the child run of TestCaddyLogsOnlyOnFailure does
// after its Caddy has logged: pass, fail or panic.
const logsChildEnv = "CADDY_CORS_TEST_LOGS_CHILD"

// TestCaddyLogsOnlyOnFailure runs this test binary again, where this test
// starts a Caddy of its own, loads a configuration, sends it a request, and
// then passes, fails or panics: a passing run prints none of Caddy's log
// lines, a failing or crashing one shows them. The child cannot use the
// Caddy of this process: its configuration would be loaded into this
// process's Caddy, which logs here, and the check would see nothing to
// hold back; so its Caddy has an admin endpoint and a site of its own.
func TestCaddyLogsOnlyOnFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Caddy of its own in a child process")
	}
	if mode := os.Getenv(logsChildEnv); mode != "" {
		startCaddyThen(t, mode)
		return
	}
	if !canRedirectStderr {
		t.Skipf("Caddy's logs are not held back on %s", runtime.GOOS)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shown := []byte("Caddy's logs, held back while the tests ran (")
	for _, tc := range []struct {
		mode      string
		exitCode  int
		wantLogs  bool
		wantWords string // in the output besides
	}{
		{mode: "pass", exitCode: 0},
		{mode: "fail", exitCode: 1, wantLogs: true, wantWords: "failing on purpose"},
		{mode: "panic", exitCode: 2, wantLogs: true, wantWords: "panic: panicking on purpose"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			child := exec.Command(exe, "-test.run=^TestCaddyLogsOnlyOnFailure$", "-test.count=1", "-test.timeout=2m")
			child.Env = append(os.Environ(), logsChildEnv+"="+tc.mode)
			out, err := child.CombinedOutput()
			if child.ProcessState == nil {
				t.Fatal(err)
			}
			if code := child.ProcessState.ExitCode(); code != tc.exitCode {
				t.Fatalf("the child run exited with %d (%v), want %d:\n%s", code, err, tc.exitCode, out)
			}
			// Caddy's log lines before the heading are leaks; looser than
			// caddyLogLine, so that a change in Caddy's format cannot
			// hide one.
			before, after, found := bytes.Cut(out, shown)
			for line := range bytes.Lines(before) {
				if caddyLogLine.Match(line) || bytes.HasPrefix(line, []byte("{")) && bytes.Contains(line, []byte(`"msg":`)) {
					t.Errorf("Caddy's log line %s reached the output before the heading", bytes.TrimSpace(line))
				}
			}
			if found != tc.wantLogs || found && !bytes.Contains(after, []byte(`"msg":"load complete"`)) {
				t.Errorf("Caddy's logs shown: %v, want %v, with the load's:\n%s", found, tc.wantLogs, out)
			}
			if !bytes.Contains(out, []byte(tc.wantWords)) {
				t.Errorf("the output lacks %q:\n%s", tc.wantWords, out)
			}
		})
	}
}

// startCaddyThen is the child run of TestCaddyLogsOnlyOnFailure.
func startCaddyThen(t *testing.T, mode string) {
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: 9125})
	// The child's Caddy dies with the child, maybe holding a lock: it
	// leaves the storage and the saved configuration that it shares with
	// the Caddy of the parent alone.
	tester.InitServer(`{
	"admin": {"listen": "localhost:9125", "config": {"persist": false}},
	"apps": {"tls": {"disable_storage_check": true, "disable_storage_clean": true},
		"http": {"servers": {"srv0": {"listen": [":9124"], "routes": [{"handle": [
			{"handler": "cors", "allowed_origins": ["https://app.example"]},
			{"handler": "static_response", "body": "ok"}
	]}]}}}}
}`, "json")
	tester.AssertGetResponse("http://localhost:9124/", http.StatusOK, "ok")
	switch mode {
	case "fail":
		t.Error("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	}
}
