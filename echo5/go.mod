module github.com/seed-ff2808ae/cookiesession/echo5

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../

require (
	github.com/labstack/echo/v5 v5.4.4
	github.com/seed-ff2808ae/cookiesession v0.0.0
)

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
