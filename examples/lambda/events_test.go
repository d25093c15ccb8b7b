package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// restEvent returns a hand-made API Gateway REST (payload 1.0) event as
// JSON, the shape of many test fixtures and `sam local invoke` events:
// its request headers in headers, beside a multiValueHeaders that is
// empty, or holds only mv.
func restEvent(t *testing.T, method, path, body, cookie string, mv map[string][]string) []byte {
	t.Helper()
	headers := map[string]string{"Host": apiHost, "X-Forwarded-Proto": "https"}
	if body != "" {
		headers["Content-Type"] = "application/x-www-form-urlencoded"
	}
	if cookie != "" {
		headers["Cookie"] = cookie
	}
	if mv == nil {
		mv = map[string][]string{}
	}
	data, err := json.Marshal(map[string]any{
		"resource": path, "path": path, "httpMethod": method, "body": body, "isBase64Encoded": false,
		"headers": headers, "multiValueHeaders": mv,
		"queryStringParameters": nil, "multiValueQueryStringParameters": nil,
		"requestContext": map[string]any{"domainName": apiHost, "httpMethod": method, "path": "/prod" + path,
			"stage": "prod", "requestId": "id", "identity": map[string]any{"sourceIp": "203.0.113.7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRESTEventEmptyMultiValueHeaders serves the example's two-chunk
// session through hand-made REST events whose headers are in headers and
// whose multiValueHeaders is empty, or holds some headers but not the
// cookie: the proxy read multiValueHeaders alone, so the cookie was never
// read and the user looked signed out, with nothing said. The answer's
// Set-Cookie lines go in multiValueHeaders, which a REST API reads.
func TestRESTEventEmptyMultiValueHeaders(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	var sent []string // the request's Cookie lines, as the proxy made them
	serve := proxyV1(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header["Cookie"]
		app.ServeHTTP(w, r)
	}))
	ctx := context.Background()

	out, err := serve(ctx, decode[events.APIGatewayProxyRequest](t, restEvent(t, "POST", "/note", noteForm, "", nil)))
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusSeeOther || out.Headers != nil {
		t.Fatalf("POST /note: status %d, headers %q, body %q", out.StatusCode, out.Headers, out.Body)
	}
	names, pairs := cookieNames(t, out.MultiValueHeaders["Set-Cookie"])
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("multiValueHeaders Set-Cookie names %v, want %v", names, twoChunks)
	}
	cookie := strings.Join(pairs, "; ")

	for _, tc := range []struct {
		name string
		mv   map[string][]string
	}{
		{"empty", nil},
		{"without the cookie", map[string][]string{"X-Forwarded-Proto": {"https"}}},
		// The same header in both maps, in another case: read once.
		{"with the cookie, lower case", map[string][]string{"cookie": {cookie}}},
	} {
		back, err := serve(ctx, decode[events.APIGatewayProxyRequest](t, restEvent(t, "GET", "/", "", cookie, tc.mv)))
		if err != nil {
			t.Fatal(err)
		}
		if back.StatusCode != http.StatusOK || back.Body != "your note has 5000 bytes\n" || len(back.MultiValueHeaders["Set-Cookie"]) != 0 {
			t.Errorf("GET / with multiValueHeaders %s: %d %q, Set-Cookie %.40q", tc.name, back.StatusCode, back.Body, back.MultiValueHeaders["Set-Cookie"])
		}
		if len(sent) != 1 {
			t.Errorf("GET / with multiValueHeaders %s: the request carried %d Cookie lines, want 1", tc.name, len(sent))
		}
	}
	if got := logs.String(); strings.Contains(got, shadowWarning) {
		t.Errorf("logged a second cookie of the session's name:\n%s", got)
	}
}
