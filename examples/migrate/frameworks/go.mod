module github.com/seed-ff2808ae/cookiesession/examples/migrate/frameworks

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../../../

replace github.com/seed-ff2808ae/cookiesession/examples/migrate => ../

replace github.com/seed-ff2808ae/cookiesession/echo => ../../../echo

replace github.com/seed-ff2808ae/cookiesession/echo5 => ../../../echo5

replace github.com/seed-ff2808ae/cookiesession/fiber => ../../../fiber

replace github.com/seed-ff2808ae/cookiesession/gin => ../../../gin

require (
	github.com/gofiber/fiber/v3 v3.1.0
	github.com/gorilla/sessions v1.4.0
	github.com/labstack/echo/v4 v4.16.0
	github.com/labstack/echo/v5 v5.4.4
	github.com/seed-ff2808ae/cookiesession v0.0.0
	github.com/seed-ff2808ae/cookiesession/echo v0.0.0-00010101000000-000000000000
	github.com/seed-ff2808ae/cookiesession/echo5 v0.0.0-00010101000000-000000000000
	github.com/seed-ff2808ae/cookiesession/examples/migrate v0.0.0-00010101000000-000000000000
	github.com/seed-ff2808ae/cookiesession/fiber v0.0.0-00010101000000-000000000000
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/andybalholm/brotli v1.2.0 // indirect
	github.com/gofiber/schema v1.7.0 // indirect
	github.com/gofiber/utils/v2 v2.0.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/klauspost/compress v1.18.4 // indirect
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/tinylib/msgp v1.6.3 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.69.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
