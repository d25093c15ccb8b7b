package frameworks

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeEchoSnippet compiles README's echo wiring of FromGorilla,
// the wiring echoApp and echo5App run, against echo v4 and v5.
func TestReadmeEchoSnippet(t *testing.T) {
	code := readmeBlock(t, "echo.WrapMiddleware(carry)")
	for _, v := range []struct{ echo, adapter string }{
		{"github.com/labstack/echo/v4", "github.com/seed-ff2808ae/cookiesession/echo"},
		{"github.com/labstack/echo/v5", "github.com/seed-ff2808ae/cookiesession/echo5"},
	} {
		vet(t, v.echo, `package main

import (
	"log/slog"

	gsessions "github.com/gorilla/sessions"
	"`+v.echo+`"
	"`+v.echo+`/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "`+v.adapter+`"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
)

func wire(e *echo.Echo, sessions *cookiesession.Manager, secret []byte) {
`+code+`}

func main() { wire(echo.New(), nil, nil) }
`)
	}
}

// TestReadmeFiberSnippet compiles README's fiber wiring of FromGorilla,
// and checks that fiberApp runs it, line for line from its app.Use on
// (the test's recover and logger differ).
func TestReadmeFiberSnippet(t *testing.T) {
	code := readmeBlock(t, "adaptor.ConvertRequest(c, true)")
	vet(t, "fiber", `package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/gofiber/fiber/v3/middleware/recover"
	gsessions "github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

func wire(app *fiber.App, sessions *cookiesession.Manager, secret []byte) {
`+code+`}

func main() { wire(fiber.New(), nil, nil) }
`)
	src, err := os.ReadFile("fiber_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, from, _ := strings.Cut(code, "app.Use(")
	_, ran, _ := strings.Cut(string(src), "app.Use(fibersession.New(")
	ran, _, _ = strings.Cut(ran, "// to here.")
	if trimLines("fibersession.New("+ran) != trimLines(from) {
		t.Errorf("fiberApp does not run README's block from app.Use on:\nREADME:\n%s\nfiberApp:\n%s", from, ran)
	}
}

// trimLines drops each line's indentation, and recover.New() (fiberApp
// uses it apart).
func trimLines(s string) string {
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		out = append(out, strings.TrimSpace(line))
	}
	return strings.Replace(strings.Join(out, "\n"), "recover.New(), ", "", 1)
}
