module github.com/seed-ff2808ae/cookiesession/examples/chi

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../../

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/rs/cors v1.11.1
	github.com/seed-ff2808ae/cookiesession v0.0.0
)

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
