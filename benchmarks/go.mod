module github.com/seed-ff2808ae/cookiesession/benchmarks

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/seed-ff2808ae/cookiesession v0.0.0-00010101000000-000000000000
)

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
