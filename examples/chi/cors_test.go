package chiexample

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"
	"github.com/seed-ff2808ae/cookiesession"
)

// appOrigin is the page's origin that the API's CORS allows, with
// credentials.
const appOrigin = "https://app.example.com"

// TestRsCors keeps README's Wrappers claim true of rs/cors, used before and
// after sessions.Handler, and allowing appOrigin with credentials: a login
// reaches the client's jar, a flushed stream carries its change and keeps
// streaming, and a change after the body is reported. Its answer to a
// preflight, which never reaches the handler, carries no cookie and no
// Vary: Cookie, and nothing is logged of it. A login by a credentialed
// fetch from appOrigin gets the cookie beside rs/cors's
// Access-Control-Allow-* headers, and the Manager, which reads those at the
// commit, logs no warning; from an origin rs/cors does not allow it does.
func TestRsCors(t *testing.T) {
	allow := cors.New(cors.Options{AllowedOrigins: []string{appOrigin}, AllowCredentials: true}).Handler
	for _, tc := range []struct {
		name string
		use  func(r chi.Router, m *cookiesession.Manager)
	}{
		{"cors before", func(r chi.Router, m *cookiesession.Manager) { r.Use(allow, m.Handler) }},
		{"cors after", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, allow) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := newJarSite(t, tc.use)
			site.checkJourney(nil)
			logged := site.logs.String()

			resp := site.do("OPTIONS", "/login", fetchFrom(appOrigin, http.Header{"Access-Control-Request-Method": {"GET"}}))
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("preflight: %d, Access-Control-Allow-Origin %q, -Credentials %q", resp.StatusCode,
					resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
			}
			if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 || hasVary(resp, "Cookie") {
				t.Errorf("preflight: Set-Cookie %q, Vary %q", sc, resp.Header.Values("Vary"))
			}
			if now := site.logs.String(); now != logged {
				t.Errorf("preflight logged:\n%s", strings.TrimPrefix(now, logged))
			}

			resp, body := site.readWith("/login?user=grace", fetchFrom(appOrigin, nil))
			if body != "signed in" || len(resp.Header.Values("Set-Cookie")) != 1 ||
				resp.Header.Get("Access-Control-Allow-Origin") != appOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("credentialed fetch: %q, Set-Cookie %q, Access-Control-Allow-Origin %q, -Credentials %q", body, resp.Header.Values("Set-Cookie"),
					resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
			}
			if !hasVary(resp, "Cookie") || !hasVary(resp, "Origin") {
				t.Errorf("credentialed fetch: Vary %q, want Cookie and Origin", resp.Header.Values("Vary"))
			}
			if _, body := site.read("/me"); body != "grace streamed" {
				t.Errorf("/me after the credentialed fetch: %q", body)
			}
			if now := site.logs.String(); now != logged {
				t.Errorf("the credentialed fetch logged:\n%s", strings.TrimPrefix(now, logged))
			}

			// The control: without rs/cors's headers, the same fetch is logged.
			resp, _ = site.readWith("/login?user=mallory", fetchFrom("https://other.example.com", nil))
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("rs/cors allowed another origin: %q", resp.Header.Get("Access-Control-Allow-Origin"))
			}
			if !strings.Contains(site.logs.String(), "its CORS answer does not allow credentials") {
				t.Errorf("a fetch from an origin rs/cors refuses was not logged:\n%s", site.logs)
			}
		})
	}
}

// fetchFrom returns the headers a browser sends with a fetch from a page
// of origin, another origin of the site, with credentials: "include" (the
// jar adds the cookie), and those of extra.
func fetchFrom(origin string, extra http.Header) http.Header {
	h := http.Header{"Origin": {origin}, "Sec-Fetch-Site": {"same-site"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"}}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// hasVary reports whether the response's Vary names field.
func hasVary(resp *http.Response, field string) bool {
	for _, v := range resp.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return true
			}
		}
	}
	return false
}
