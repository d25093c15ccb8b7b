package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestReadmeSnippet keeps fiber/README.md and the repository's README.md
// true: the package main block of each that uses fibersession is this
// file, byte for byte.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../README.md", "../../README.md"} {
		readme, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var block string
		for _, b := range strings.Split(string(readme), "```go\n")[1:] {
			code, _, _ := strings.Cut(b, "```")
			if strings.HasPrefix(code, "package main\n") && strings.Contains(code, "fibersession") {
				block = code
				break
			}
		}
		if block != string(src) {
			t.Errorf("%s: the package main block that uses fibersession differs from example/main.go; paste main.go into it", path)
		}
	}
}

func TestLoginReadLogout(t *testing.T) {
	app := testApp(t)
	cookies := map[string]string{}

	res := request(t, app, http.MethodPost, "/login", url.Values{"username": {"ada"}}.Encode(), cookies)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || cookies["session"] == "" {
		t.Fatalf("login: status %d, Location %q, cookies %q", res.StatusCode, res.Header.Get("Location"), cookies)
	}
	if body := readBody(t, request(t, app, http.MethodGet, "/", "", cookies)); body != "user=ada" {
		t.Errorf("after login: %q", body)
	}
	request(t, app, http.MethodPost, "/logout", "", cookies)
	if len(cookies) != 0 {
		t.Errorf("after logout the client holds %q", cookies)
	}
	if body := readBody(t, request(t, app, http.MethodGet, "/", "", cookies)); body != "user=" {
		t.Errorf("after logout: %q", body)
	}
}

// request sends one request through app.Test with cookies, and keeps the
// cookies the response sets (dropping expired ones) as a browser would.
func request(t *testing.T, app *fiber.App, method, target, form string, cookies map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "https://example.test"+target, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, value := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(cookies, c.Name)
		} else {
			cookies[c.Name] = c.Value
		}
	}
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCrossSitePostRefused checks that a login form another site posts
// is refused before the session, where it would sign the browser in as
// the forger (login CSRF), and that the site's own form still works.
func TestCrossSitePostRefused(t *testing.T) {
	app := testApp(t)
	for _, tc := range []struct {
		header, value string
		want          int
	}{
		{"Sec-Fetch-Site", "cross-site", http.StatusForbidden},
		{"Origin", "https://evil.test", http.StatusForbidden},
		{"Sec-Fetch-Site", "same-origin", http.StatusSeeOther},
		{"Origin", "https://example.test", http.StatusSeeOther},
	} {
		req, err := http.NewRequest(http.MethodPost, "https://example.test/login", strings.NewReader("username=mallory"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(tc.header, tc.value)
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.want || (len(res.Cookies()) > 0) != (tc.want == http.StatusSeeOther) {
			t.Errorf("POST /login with %s: %s: %d with %d cookies, want %d", tc.header, tc.value, res.StatusCode, len(res.Cookies()), tc.want)
		}
	}
}

// testApp is the example's app over a ring of one fresh key.
func testApp(t *testing.T) *fiber.App {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := cookiesession.New(ring, cookiesession.Options{MaxChunks: 2})
	if err != nil {
		t.Fatal(err)
	}
	return newApp(sessions)
}
