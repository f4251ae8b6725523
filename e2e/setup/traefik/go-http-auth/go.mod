// Added to the copy of github.com/abbot/go-http-auth v0.4.0 (which has no
// go.mod) that replaces Traefik's unavailable fork containous/go-http-auth.
module github.com/abbot/go-http-auth

go 1.21
