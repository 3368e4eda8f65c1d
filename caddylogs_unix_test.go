//go:build unix

package cors

import (
	"os"

	"golang.org/x/sys/unix"
)

// canRedirectStderr says that redirectStderr works here.
const canRedirectStderr = true

// redirectStderr points file descriptor 2 at w.
func redirectStderr(w *os.File) error {
	return unix.Dup2(int(w.Fd()), 2)
}
