package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestSpeculativeChangeWarns: API Gateway passes the browser's headers
// on in lower case (payload 2.0), and the adapter's request carries them,
// so a GET /logout that the browser prefetched from speculation rules
// (sec-purpose: prefetch) is logged at Warn by the Manager's middleware,
// as on a server (TestSpeculativeChangeWarns in the root), and its cookie
// is cleared as without the marker.
func TestSpeculativeChangeWarns(t *testing.T) {
	sessions, logs := newSessions(t, cookiesession.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		w.WriteHeader(http.StatusNoContent) // the adapter wants a status written
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	serve := proxyV2(sessions.Handler(mux))
	event := func(method, path string, cookies []string, headers map[string]string) events.APIGatewayV2HTTPRequest {
		e := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Cookies: cookies, Headers: headers}
		e.RequestContext.HTTP.Method, e.RequestContext.HTTP.Path = method, path
		e.RequestContext.DomainName = apiHost
		return e
	}
	login, err := serve(context.Background(), event("POST", "/login", nil, map[string]string{"x-forwarded-proto": "https"}))
	if err != nil {
		t.Fatal(err)
	}
	_, pairs := cookieNames(t, login.Cookies)
	out, err := serve(context.Background(), event("GET", "/logout", pairs, map[string]string{"x-forwarded-proto": "https", "sec-purpose": "prefetch"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := expired(t, out.Cookies); len(got) != 1 {
		t.Errorf("Set-Cookie %q, want the session cleared", out.Cookies)
	}
	if got := logs.String(); strings.Count(got, "a request sent ahead of a click") != 1 || !strings.Contains(got, `marker="Sec-Purpose: prefetch"`) || !strings.Contains(got, "change=sign-out") {
		t.Errorf("logged %s\nwant one Warn naming Sec-Purpose and the sign-out", got)
	}
}
