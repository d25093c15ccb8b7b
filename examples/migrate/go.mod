module github.com/seed-ff2808ae/cookiesession/examples/migrate

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../../

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/seed-ff2808ae/cookiesession v0.0.0
)

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
