package cors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The README's section on "caddy cors check" shows transcripts of the
// command against the public-api example, as the quick start serves it on
// port 8080. TestCheckTranscriptsInREADME serves the example on the tests'
// port 9080 instead, runs each command of the transcripts, and compares what
// it prints, the port put back, with the README, byte for byte: the report
// shows no value that changes from one run to the next (no date, no request
// ID), and of the response headers only the CORS ones, Vary and Location.

// readmeCheckSection is the heading of the README's section on the command.
const readmeCheckSection = "## Why does the browser block it? `caddy cors check`\n"

// transcriptCommand is one command of a README transcript and what it
// prints: the report of "caddy cors check", or for "echo $?" the exit code
// of the command before.
type transcriptCommand struct {
	args   []string // as the shell splits the command line
	output string
}

// readmeCheckTranscripts returns the commands of the transcripts in the
// README's section on "caddy cors check": the fenced console blocks.
func readmeCheckTranscripts(t *testing.T) []transcriptCommand {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), readmeCheckSection)
	if !ok {
		t.Fatalf("README.md lacks the heading %q", readmeCheckSection)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var cmds []transcriptCommand
	for _, block := range strings.Split(section, "```console\n")[1:] {
		block, _, ok := strings.Cut(block, "```\n")
		if !ok {
			t.Fatalf("a console block is not closed:\n%s", block)
		}
		lines := strings.SplitAfter(block, "\n")
		for i := 0; i < len(lines); {
			line, ok := strings.CutPrefix(lines[i], "$ ")
			if !ok {
				t.Fatalf("a console block holds output before its first command: %q", lines[i])
			}
			// A line ending in a backslash goes on on the next line.
			var cmd strings.Builder
			for i++; strings.HasSuffix(line, "\\\n") && i < len(lines); i++ {
				cmd.WriteString(strings.TrimSuffix(line, "\\\n"))
				line = lines[i]
			}
			cmd.WriteString(line)
			var out strings.Builder
			for ; i < len(lines) && !strings.HasPrefix(lines[i], "$ "); i++ {
				out.WriteString(lines[i])
			}
			args := []string{"echo", "$?"}
			if cmd.String() != "echo $?\n" {
				if args, err = shellWords(cmd.String()); err != nil {
					t.Fatalf("%q: %v", cmd.String(), err)
				}
			}
			cmds = append(cmds, transcriptCommand{args: args, output: out.String()})
		}
	}
	return cmds
}

// shellWords splits a command line as a POSIX shell does, for the forms
// the README uses: words separated by blanks, and single quotes. Anything
// else a shell would interpret is refused, so that the test never runs a
// command other than the one shown.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, c := range strings.TrimSuffix(line, "\n") {
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			word.WriteRune(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\`$|&;<>()*?[]~#{}", c):
			return nil, fmt.Errorf("%q is beyond what the test interprets", c)
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("a quote is not closed")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// TestCheckTranscriptsInREADME runs the README's "caddy cors check"
// transcripts against the public-api example and compares their output.
func TestCheckTranscriptsInREADME(t *testing.T) {
	cmds := readmeCheckTranscripts(t)
	checks := 0
	for _, c := range cmds {
		if len(c.args) >= 3 && c.args[0] == "./caddy" && c.args[1] == "cors" && c.args[2] == "check" {
			checks++
		}
	}
	if checks < 3 {
		t.Fatalf("the README shows %d caddy cors check commands in console blocks, want at least 3", checks)
	}

	caddyfile, _ := readExample(t, filepath.Join("examples", "public-api"))
	tester := caddytest.NewTester(t)
	tester.InitServer(testGlobals+strings.ReplaceAll(caddyfile, ":8080", ":9080"), "caddyfile")

	lastCode := -1
	for i, c := range cmds {
		name := strings.Join(c.args, " ")
		switch {
		case name == "echo $?":
			if lastCode < 0 {
				t.Fatalf("command %d: echo $? with no command before it", i)
			}
			if got := strconv.Itoa(lastCode) + "\n"; got != c.output {
				t.Errorf("command %d: the exit code is %s, the README shows %s", i, got, c.output)
			}
		case strings.HasPrefix(name, "./caddy cors check "):
			var args []string
			for _, a := range c.args[3:] {
				args = append(args, strings.ReplaceAll(a, "localhost:8080", "localhost:9080"))
			}
			var out bytes.Buffer
			code, err := runCheck(checkCommand(), args, &out)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			lastCode = code
			if got := strings.ReplaceAll(out.String(), "localhost:9080", "localhost:8080"); got != c.output {
				t.Errorf("%s prints\n%s\nthe README shows\n%s", name, got, c.output)
			}
		default:
			t.Fatalf("command %d: %q is not a command the README's transcripts may show", i, name)
		}
	}
}
