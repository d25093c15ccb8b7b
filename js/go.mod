module github.com/seed-ff2808ae/cookiesession/js

go 1.25.0

require github.com/seed-ff2808ae/cookiesession v0.0.0

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/seed-ff2808ae/cookiesession => ../
