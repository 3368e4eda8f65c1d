// Command caddy is Caddy with its standard modules and the cors handler,
// the same program that "xcaddy build --with github.com/caddy-cors/cors"
// produces.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// The standard modules and this one.
	_ "github.com/caddy-cors/cors"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
