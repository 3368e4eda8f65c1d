//go:build !unix

package cors

import (
	"errors"
	"os"
)

// canRedirectStderr says that redirectStderr does not work here: Caddy's
// logs reach standard error as they come.
const canRedirectStderr = false

// redirectStderr would point file descriptor 2 at w.
func redirectStderr(w *os.File) error {
	return errors.ErrUnsupported
}
