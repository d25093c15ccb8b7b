package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/seed-ff2808ae/cookiesession"
)

// A note of noteLen bytes needs both of the app's two cookies.
const noteLen = 5000

var noteForm = url.Values{"note": {strings.Repeat("n", noteLen)}}.Encode()

// setKeys puts a fresh one-key ring in COOKIESESSION_KEYS for the test.
func setKeys(t *testing.T) {
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	text, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("COOKIESESSION_KEYS", string(text))
}

// cookieNames returns the sorted names of Set-Cookie lines, and the
// name=value pairs a browser would send back.
func cookieNames(t *testing.T, lines []string) (names, pairs []string) {
	h := http.Header{"Set-Cookie": lines}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s is not Secure and HttpOnly", c.Name)
		}
		names = append(names, c.Name)
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	slices.Sort(names)
	return names, pairs
}

var twoChunks = []string{"session", "session.1"}

// apiHost is the domain API Gateway puts in the event, which the proxy
// makes the request's Host; it also sends X-Forwarded-Proto: https, since
// it ends the TLS.
const apiHost = "abc123.execute-api.eu-west-1.amazonaws.com"

// functionURLHost is a function URL's domain, which both adapters make
// the request's Host.
const functionURLHost = "abcdefghij.lambda-url.eu-west-1.on.aws"

// Where a function URL's event carries the request's cookies.
const (
	inBoth    = "cookies and headers.cookie" // what AWS sends
	inArray   = "cookies only"
	inHeaders = "headers.cookie only"
)

// functionURLEvent returns a function URL's event as JSON, laid out as
// AWS's sample in aws-lambda-go v1.54.0
// (lambdaurl/testdata/function-url-request-with-headers-and-cookies-and-text-body.json):
// payload 2.0's schema, with the cookie pairs in both the cookies array
// and headers.cookie, or in where says.
func functionURLEvent(t *testing.T, method, path, body string, pairs []string, where string) []byte {
	t.Helper()
	headers := map[string]string{
		"accept": "*/*", "host": functionURLHost, "user-agent": "Mozilla/5.0",
		"x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
	}
	if body != "" {
		headers["content-type"] = "application/x-www-form-urlencoded"
	}
	event := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
		"headers": headers, "body": body, "isBase64Encoded": false,
		"requestContext": map[string]any{
			"accountId": "123456789012", "apiId": "abcdefghij", "domainName": functionURLHost,
			"domainPrefix": "abcdefghij", "requestId": "id", "routeKey": "$default", "stage": "$default",
			"http": map[string]any{"method": method, "path": path, "protocol": "HTTP/1.1",
				"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		},
	}
	if len(pairs) > 0 && where != inHeaders {
		event["cookies"] = pairs
	}
	if len(pairs) > 0 && where != inArray {
		headers["cookie"] = strings.Join(pairs, "; ")
	}
	data, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decode reads an event's JSON into T, as the Lambda runtime does.
func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// logBuffer collects log lines from any goroutine: lambdaurl runs the
// handler in one of its own.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// warnings makes slog's default logger, which newApp's Manager takes,
// write its Warn lines to the returned buffer for the test. When the test
// ends it restores the log package's output and flags as well as slog's
// default: slog.SetDefault sends the log package's output to the new
// handler, and setting the previous default back does not undo that, so
// every later log.Print and slog.Info went on into this buffer, at Warn
// and above only, for the rest of the run.
func warnings(t *testing.T) *logBuffer {
	b := &logBuffer{}
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	})
	return b
}

// newSessions returns a Manager on a fresh one-key ring with opts, whose
// Logger writes its Warn lines to the returned buffer.
func newSessions(t *testing.T, opts cookiesession.Options) (*cookiesession.Manager, *logBuffer) {
	t.Helper()
	setKeys(t)
	ring, err := cookiesession.LoadKeyRingEnv()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sessions, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sessions, logs
}

// expired returns the sorted names of Set-Cookie lines that expire a
// cookie, and fails the test on any other line.
func expired(t *testing.T, lines []string) []string {
	t.Helper()
	var names []string
	for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("Set-Cookie %s=%.20q... does not expire the cookie", c.Name, c.Value)
		}
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// stream serves event through lambdaurl.Wrap(h), as a function URL in
// RESPONSE_STREAM mode does, and reads the body to its end.
func stream(t *testing.T, h http.Handler, event []byte) (*events.LambdaFunctionURLStreamingResponse, string) {
	t.Helper()
	out, err := lambdaurl.Wrap(h)(context.Background(), decode[*events.LambdaFunctionURLRequest](t, event))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, string(body)
}

// TestRESTPayload runs a 2-chunk session out of and back into the app
// through API Gateway REST (payload 1.0) events, which carry
// multiValueHeaders, as main serves them (proxyV1).
func TestRESTPayload(t *testing.T) {
	setKeys(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	serve := proxyV1(app) // as main serves payload 1.0
	ctx := context.Background()

	out, err := serve(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/note", Body: noteForm,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Forwarded-Proto": {"https"}},
		RequestContext: events.APIGatewayProxyRequestContext{DomainName: apiHost},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /note: status %d, body %q", out.StatusCode, out.Body)
	}
	names, pairs := cookieNames(t, out.MultiValueHeaders["Set-Cookie"])
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("multiValueHeaders Set-Cookie names %v, want %v", names, twoChunks)
	}

	back, err := serve(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/",
		MultiValueHeaders: map[string][]string{"Cookie": {strings.Join(pairs, "; ")},
			"X-Forwarded-Proto": {"https"}},
		RequestContext: events.APIGatewayProxyRequestContext{DomainName: apiHost},
	})
	if err != nil {
		t.Fatal(err)
	}
	if back.StatusCode != http.StatusOK || back.Body != "your note has 5000 bytes\n" {
		t.Fatalf("GET / with the two cookies: %d %q", back.StatusCode, back.Body)
	}
	if got := back.MultiValueHeaders["Set-Cookie"]; got != nil {
		t.Errorf("a read-only request got Set-Cookie %q", got)
	}
}

// TestHTTPAPIPayload does the same through HTTP API (payload 2.0) events,
// whose cookies travel in their own field both ways, as main serves them
// (proxyV2).
func TestHTTPAPIPayload(t *testing.T) {
	setKeys(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	serve := proxyV2(app) // as main serves payload 2.0
	ctx := context.Background()
	event := func(method, path, body string, cookies []string) events.APIGatewayV2HTTPRequest {
		e := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: path, Body: body, Cookies: cookies,
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded",
				"x-forwarded-proto": "https"},
		}
		e.RequestContext.HTTP.Method, e.RequestContext.HTTP.Path = method, path
		e.RequestContext.DomainName = apiHost
		return e
	}

	out, err := serve(ctx, event("POST", "/note", noteForm, nil))
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /note: status %d, body %q", out.StatusCode, out.Body)
	}
	names, pairs := cookieNames(t, out.Cookies)
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("cookies names %v, want %v", names, twoChunks)
	}

	back, err := serve(ctx, event("GET", "/", "", pairs))
	if err != nil {
		t.Fatal(err)
	}
	if back.StatusCode != http.StatusOK || back.Body != "your note has 5000 bytes\n" {
		t.Fatalf("GET / with the two cookies: %d %q", back.StatusCode, back.Body)
	}
	if len(back.Cookies) != 0 {
		t.Errorf("a read-only request got cookies %q", back.Cookies)
	}
}

// TestMissingKeys checks that a cold start without keys fails with the
// reason instead of serving.
func TestMissingKeys(t *testing.T) {
	t.Setenv("COOKIESESSION_KEYS", "")
	if _, err := newApp(); err == nil || !strings.HasPrefix(err.Error(), "cookiesession:") {
		t.Fatalf("newApp without keys: %v", err)
	}
}

// TestColdStartLogsRing: Lambda serves no /debug/vars, so the runbook's
// step 2 (every instance has loaded the new ring) had nothing to check on
// a function. Each cold start now logs the ring it loaded: its key ids,
// the primary starred, and their fingerprints, never a secret.
func TestColdStartLogsRing(t *testing.T) {
	setKeys(t)
	ring, err := cookiesession.LoadKeyRingEnv()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	if _, err := newApp(); err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys()
	line := logs.String()
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "key ring loaded") ||
		!strings.Contains(line, cookiesession.FormatKeyID(keys[0].ID)+"*:"+keys[0].Fingerprint) {
		t.Errorf("cold start logged %q, want the ring's ids, primary and fingerprints at Info", line)
	}
	text, _ := ring.MarshalJSON()
	var doc struct{ Keys []struct{ Secret string } }
	if err := json.Unmarshal(text, &doc); err != nil || strings.Contains(line, doc.Keys[0].Secret) {
		t.Errorf("cold start log %q holds the secret (or the ring did not parse: %v)", line, err)
	}
}

// TestReadmeServerless keeps the README's Serverless snippet identical to
// main.go, which the tests above build and run.
func TestReadmeServerless(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(main)+"```\n") {
		t.Fatal("README.md's Serverless section must show examples/lambda/main.go exactly, in a ```go block")
	}
}

// TestRESTHeaderBudget pins what README's Serverless section says of a
// REST API's header quota, 10,240 bytes of all headers (8,000 for a
// private API): the example's two full cookies make a Cookie line over
// 8,000 bytes, which only a public API takes, with about 2 KB left for the
// rest; and a Cookie line of 7,000 to 8,000 bytes, which a private API
// refuses beside a browser's other headers (about 1 KB), gets no warning
// from the Manager, which warns past nginx's 8,190.
func TestRESTHeaderBudget(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	serve := proxyV1(app)
	const cookieLineWarning = "next Cookie line"
	longest, unwarned := 0, 0
	for n := 4000; ; n += 20 {
		out, err := serve(context.Background(), events.APIGatewayProxyRequest{
			HTTPMethod: "POST", Path: "/note", Body: url.Values{"note": {strings.Repeat("n", n)}}.Encode(),
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"},
				"X-Forwarded-Proto": {"https"}},
			RequestContext: events.APIGatewayProxyRequestContext{DomainName: apiHost},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != http.StatusSeeOther {
			break // past two full cookies
		}
		_, pairs := cookieNames(t, out.MultiValueHeaders["Set-Cookie"])
		line := len("Cookie: ") + len(strings.Join(pairs, "; "))
		longest = line
		if line > 7000 && line <= 8000 && !strings.Contains(logs.String(), cookieLineWarning) {
			unwarned++
		}
	}
	if longest <= 8000 || longest > 10240-2000 {
		t.Errorf("two full cookies make a Cookie line of %d bytes, want over a private REST API's 8,000 and at most 8,240", longest)
	}
	if unwarned == 0 {
		t.Errorf("no session with a Cookie line of 7,000 to 8,000 bytes went unwarned; log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), cookieLineWarning) {
		t.Errorf("two full cookies were not warned of; log:\n%s", logs)
	}
}

// TestHandlerMustWriteAStatus pins what README's Serverless section says:
// the proxy answers 504, and drops the cookie, when the handler writes
// nothing, where net/http would send 200; a handler that writes its
// status gets the cookie out.
func TestHandlerMustWriteAStatus(t *testing.T) {
	setKeys(t)
	ring, err := cookiesession.LoadKeyRingEnv()
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status, want int
		cookies      int
	}{
		{status: 0, want: http.StatusGatewayTimeout, cookies: 0},
		{status: http.StatusNoContent, want: http.StatusNoContent, cookies: 1},
	} {
		app := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := cookiesession.FromContext(r.Context()).Set("seen", true); err != nil {
				t.Error(err)
			}
			if tc.status != 0 {
				w.WriteHeader(tc.status)
			}
		}))
		e := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/seen",
			Headers: map[string]string{"x-forwarded-proto": "https"}}
		e.RequestContext.HTTP.Method, e.RequestContext.HTTP.Path = "POST", "/seen"
		e.RequestContext.DomainName = apiHost
		out, _ := httpadapter.NewV2(app).ProxyWithContext(context.Background(), e)
		if out.StatusCode != tc.want || len(out.Cookies) != tc.cookies {
			t.Errorf("handler writing status %d: %d with %d cookies, want %d with %d",
				tc.status, out.StatusCode, len(out.Cookies), tc.want, tc.cookies)
		}
	}
}

// TestCrossSitePostRefused checks that a form another site posts to the
// function is refused before the session: without the check, its
// response would set a new session over the user's.
func TestCrossSitePostRefused(t *testing.T) {
	setKeys(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []map[string][]string{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		h["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		h["X-Forwarded-Proto"] = []string{"https"}
		out, err := httpadapter.New(app).ProxyWithContext(context.Background(), events.APIGatewayProxyRequest{
			HTTPMethod: "POST", Path: "/note", Body: "note=forged", MultiValueHeaders: h,
			RequestContext: events.APIGatewayProxyRequestContext{DomainName: apiHost},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != http.StatusForbidden || len(out.MultiValueHeaders["Set-Cookie"]) > 0 {
			t.Errorf("POST /note with %q: %d with Set-Cookie %q, want 403 and none",
				h, out.StatusCode, out.MultiValueHeaders["Set-Cookie"])
		}
	}
}

// TestALBEvent runs a 2-chunk session through Application Load Balancer
// events with multi-value headers on, as README's Serverless section says
// to serve them (httpadapter.New), and pins what it says of their empty
// Host: a form passes the cross-origin check on Sec-Fetch-Site only; that
// httpadapter.NewALB also answers in multiValueHeaders only; and that the
// lines joined with commas into one header lose the session.
func TestALBEvent(t *testing.T) {
	setKeys(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	proxy := httpadapter.New(app)
	ctx := context.Background()
	// An ALB event has no requestContext.domainName, and with multi-value
	// headers on, no single-value headers either.
	post := func(header, value string) events.APIGatewayProxyResponse {
		out, err := proxy.ProxyWithContext(ctx, events.APIGatewayProxyRequest{
			HTTPMethod: "POST", Path: "/note", Body: noteForm,
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"},
				"X-Forwarded-Proto": {"https"}, "Host": {"alb.example.com"}, header: {value}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := post("Origin", "https://alb.example.com"); out.StatusCode != http.StatusForbidden {
		t.Errorf("POST /note with a same-origin Origin only: %d, want 403 (the request's Host is empty)", out.StatusCode)
	}
	out := post("Sec-Fetch-Site", "same-origin")
	if out.StatusCode != http.StatusSeeOther || out.Headers != nil {
		t.Fatalf("POST /note: status %d, single-value headers %q", out.StatusCode, out.Headers)
	}
	names, pairs := cookieNames(t, out.MultiValueHeaders["Set-Cookie"])
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("multiValueHeaders Set-Cookie names %v, want %v", names, twoChunks)
	}
	back, err := proxy.ProxyWithContext(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/",
		MultiValueHeaders: map[string][]string{"Cookie": {strings.Join(pairs, "; ")},
			"X-Forwarded-Proto": {"https"}, "Host": {"alb.example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if back.StatusCode != http.StatusOK || back.Body != "your note has 5000 bytes\n" {
		t.Fatalf("GET / with the two cookies: %d %q", back.StatusCode, back.Body)
	}

	// httpadapter.NewALB answers the same way: multiValueHeaders only.
	alb, err := httpadapter.NewALB(app).ProxyWithContext(ctx, events.ALBTargetGroupRequest{
		HTTPMethod: "POST", Path: "/note", Body: noteForm,
		MultiValueHeaders: map[string][]string{"content-type": {"application/x-www-form-urlencoded"},
			"x-forwarded-proto": {"https"}, "host": {"alb.example.com"}, "sec-fetch-site": {"same-origin"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := cookieNames(t, alb.MultiValueHeaders["Set-Cookie"]); alb.StatusCode != http.StatusSeeOther || alb.Headers != nil || !slices.Equal(names, twoChunks) {
		t.Fatalf("NewALB: status %d, single-value headers %q, Set-Cookie names %v", alb.StatusCode, alb.Headers, names)
	}
	// Joined with commas into headers, the lines make one cookie: the
	// first chunk's, and the session is lost.
	joined := strings.Join(alb.MultiValueHeaders["Set-Cookie"], ",")
	names, pairs = cookieNames(t, []string{joined})
	if !slices.Equal(names, []string{"session"}) {
		t.Fatalf("a comma-joined Set-Cookie made cookies %v", names)
	}
	back, err = proxy.ProxyWithContext(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/",
		MultiValueHeaders: map[string][]string{"Cookie": pairs,
			"X-Forwarded-Proto": {"https"}, "Host": {"alb.example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if back.Body != "your note has 0 bytes\n" {
		t.Errorf("GET / with the cookie of a comma-joined Set-Cookie: %q", back.Body)
	}
}

// TestALBQueryDecoded checks that proxyV1 reads a load balancer's query
// parameters, which it passes as the client encoded them, as net/http
// would, with multi-value headers on and off, and leaves a REST API's,
// which API Gateway has decoded, as they are. httpadapter.New encodes
// both again: a load balancer's ?next=%2Fadmin read "%2Fadmin".
func TestALBQueryDecoded(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, "next=%s q=%s pct=%s", q.Get("next"), q.Get("q"), q.Get("pct"))
	})
	serve := answerPings(proxyV1(app)) // as main serves payload 1.0
	const want = "next=/admin?a=1 q=a b pct=100%"
	raw := map[string]string{"next": "%2Fadmin%3Fa%3D1", "q": "a+b", "pct": "100%"}
	multi := map[string][]string{}
	for k, v := range raw {
		multi[k] = []string{v}
	}
	elb := events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/app/1"}}
	for _, tc := range []struct {
		name  string
		event any
		want  string
	}{
		{"ALB, multi-value headers on", events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/login", RequestContext: elb,
			MultiValueHeaders: map[string][]string{"host": {"alb.example.com"}}, MultiValueQueryStringParameters: multi}, want},
		{"ALB, multi-value headers off", events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/login", RequestContext: elb,
			Headers: map[string]string{"host": "alb.example.com"}, QueryStringParameters: raw}, want},
		{"REST API", events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/login",
			MultiValueHeaders:               map[string][]string{"Host": {apiHost}},
			MultiValueQueryStringParameters: map[string][]string{"next": {"/admin?a=1"}, "q": {"a%2Bb"}, "pct": {"100%"}},
			RequestContext:                  events.APIGatewayProxyRequestContext{DomainName: apiHost, Stage: "prod", RequestID: "id"}},
			"next=/admin?a=1 q=a%2Bb pct=100%"},
	} {
		data, err := json.Marshal(tc.event)
		if err != nil {
			t.Fatal(err)
		}
		out, err := serve(context.Background(), data)
		if err != nil || out.StatusCode != http.StatusOK || out.Body != tc.want {
			t.Errorf("%s: %d %q (%v), want %q", tc.name, out.StatusCode, out.Body, err, tc.want)
		}
	}
}

// TestALBQueryKeysDecodedAlike: a load balancer's keys that decode to one
// key (a and %61) are merged in the byte order of the keys as sent,
// not in Go's random map order, so that a request reads the same at every
// invocation: with multi-value headers on, %61's values before a's, each
// key's in the order sent; with them off, a's value.
func TestALBQueryKeysDecodedAlike(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", r.URL.Query()["a"])
	})
	serve := answerPings(proxyV1(app))
	elb := events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/app/1"}}
	for _, tc := range []struct {
		name  string
		event events.ALBTargetGroupRequest
		want  string
	}{
		{"multi-value headers on", events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/", RequestContext: elb,
			MultiValueHeaders:               map[string][]string{"host": {"alb.example.com"}},
			MultiValueQueryStringParameters: map[string][]string{"a": {"3", "4"}, "%61": {"1", "2"}}},
			`["1" "2" "3" "4"]`},
		{"multi-value headers off", events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/", RequestContext: elb,
			Headers: map[string]string{"host": "alb.example.com"}, QueryStringParameters: map[string]string{"a": "3", "%61": "1"}},
			`["3"]`},
	} {
		data, err := json.Marshal(tc.event)
		if err != nil {
			t.Fatal(err)
		}
		for range 64 { // Go's map order differs from run to run
			out, err := serve(context.Background(), data)
			if err != nil || out.StatusCode != http.StatusOK || out.Body != tc.want {
				t.Fatalf("%s: %d %s (%v), want %s", tc.name, out.StatusCode, out.Body, err, tc.want)
			}
		}
	}
}

// TestALBSingleValueHeaders serves the app as main does for payload 1.0
// (proxyV1) to an Application Load Balancer whose target group has
// multi-value headers off: its events carry headers only, and it reads
// only the response's headers, which hold one Set-Cookie line. A session
// in one cookie goes out and back; one that needs two is answered 500
// with an Error naming the setting, not sent with its chunks dropped.
func TestALBSingleValueHeaders(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	serve := proxyV1(app)
	ctx := context.Background()
	event := func(method, path, body, cookie string) events.APIGatewayProxyRequest {
		h := map[string]string{"x-forwarded-proto": "https", "host": "alb.example.com",
			"sec-fetch-site": "same-origin"}
		if body != "" {
			h["content-type"] = "application/x-www-form-urlencoded"
		}
		if cookie != "" {
			h["cookie"] = cookie
		}
		return events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Body: body, Headers: h}
	}

	// What httpadapter.New alone answers: multiValueHeaders only, which
	// this load balancer ignores, Set-Cookie and Location with them.
	raw, err := httpadapter.New(app).ProxyWithContext(ctx, event("POST", "/note", "note=hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	if raw.Headers != nil || len(raw.MultiValueHeaders["Set-Cookie"]) != 1 {
		t.Fatalf("httpadapter.New: headers %q, multiValueHeaders %q", raw.Headers, raw.MultiValueHeaders)
	}

	out, err := serve(ctx, event("POST", "/note", "note=hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusSeeOther || out.MultiValueHeaders != nil || out.Headers["Location"] != "/" {
		t.Fatalf("POST /note: status %d, headers %q, multiValueHeaders %q", out.StatusCode, out.Headers, out.MultiValueHeaders)
	}
	names, pairs := cookieNames(t, []string{out.Headers["Set-Cookie"]})
	if !slices.Equal(names, []string{"session"}) {
		t.Fatalf("headers Set-Cookie names %v, want [session]", names)
	}
	back, err := serve(ctx, event("GET", "/", "", strings.Join(pairs, "; ")))
	if err != nil {
		t.Fatal(err)
	}
	if back.StatusCode != http.StatusOK || back.Body != "your note has 5 bytes\n" || back.Headers["Set-Cookie"] != "" {
		t.Fatalf("GET / with the cookie: %d %q, Set-Cookie %q", back.StatusCode, back.Body, back.Headers["Set-Cookie"])
	}
	if logs.String() != "" {
		t.Fatalf("logged for a session in one cookie: %s", logs)
	}

	// Two chunks cannot go out in one line.
	big, err := serve(ctx, event("POST", "/note", noteForm, strings.Join(pairs, "; ")))
	if err != nil {
		t.Fatal(err)
	}
	if big.StatusCode != http.StatusInternalServerError || big.Headers["Set-Cookie"] != "" ||
		big.Headers["Location"] != "" || big.Headers["Cache-Control"] != "no-store" || big.MultiValueHeaders != nil {
		t.Fatalf("POST /note of two chunks: status %d, headers %q, multiValueHeaders %q",
			big.StatusCode, big.Headers, big.MultiValueHeaders)
	}
	if got := logs.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "lambda.multi_value_headers.enabled") ||
		!strings.Contains(got, "give it a multiValueHeaders") {
		t.Fatalf("log for two chunks: %q", got)
	}
}

// TestALBSingleValueLogout checks that a Destroy of a session in one
// cookie, under MaxChunks 3, expires that one cookie in one line, which
// the single-value headers carry: only chunks the request brought are
// expired.
func TestALBSingleValueLogout(t *testing.T) {
	sessions, logs := newSessions(t, cookiesession.Options{MaxChunks: 3})
	app := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.URL.Path == "/logout" {
			s.Destroy()
		} else if err := s.Set("user", "ada"); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := proxyV1(app)
	event := func(path, cookie string) events.APIGatewayProxyRequest {
		h := map[string]string{"x-forwarded-proto": "https", "host": "alb.example.com"}
		if cookie != "" {
			h["cookie"] = cookie
		}
		return events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: path, Headers: h}
	}
	in, err := serve(context.Background(), event("/login", ""))
	if err != nil {
		t.Fatal(err)
	}
	_, pairs := cookieNames(t, []string{in.Headers["Set-Cookie"]})
	if len(pairs) != 1 {
		t.Fatalf("POST /login: %d %q", in.StatusCode, in.Headers)
	}
	out, err := serve(context.Background(), event("/logout", pairs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if names := expired(t, []string{out.Headers["Set-Cookie"]}); out.StatusCode != http.StatusNoContent || !slices.Equal(names, []string{"session"}) {
		t.Fatalf("POST /logout: %d, expired %v, headers %q", out.StatusCode, names, out.Headers)
	}
	if logs.String() != "" {
		t.Errorf("logged: %s", logs)
	}
}

// TestALBSingleValueLeftOverChunk checks the other case of several
// Set-Cookie lines on a single-value load balancer: a session that now
// fits in one cookie, from a client that still holds two chunks (set
// while multi-value headers were on), needs a second line to expire the
// left-over chunk. It is answered 500 with no cookie, and logged.
func TestALBSingleValueLeftOverChunk(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	serve := proxyV1(app)
	ctx := context.Background()
	h := map[string]string{"x-forwarded-proto": "https", "host": "alb.example.com",
		"sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded"}
	multi := map[string][]string{}
	for k, v := range h {
		multi[k] = []string{v}
	}
	in, err := serve(ctx, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/note", Body: noteForm, MultiValueHeaders: multi})
	if err != nil {
		t.Fatal(err)
	}
	names, pairs := cookieNames(t, in.MultiValueHeaders["Set-Cookie"])
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("POST /note with multi-value headers: %d, Set-Cookie names %v", in.StatusCode, names)
	}

	h["cookie"] = strings.Join(pairs, "; ")
	out, err := serve(ctx, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/note", Body: "note=short", Headers: h})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusInternalServerError || out.Headers["Set-Cookie"] != "" ||
		out.Headers["Location"] != "" || out.Headers["Cache-Control"] != "no-store" || out.MultiValueHeaders != nil {
		t.Fatalf("POST /note of one chunk over two: status %d, headers %q, multiValueHeaders %q",
			out.StatusCode, out.Headers, out.MultiValueHeaders)
	}
	if got := logs.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "lambda.multi_value_headers.enabled") || !strings.Contains(got, "lines=2") {
		t.Fatalf("log for a left-over chunk: %q", got)
	}
}

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

// pingAnswerers are the handlers main may start, given app, each behind
// answerPings as main starts it, taking an event's JSON.
func pingAnswerers(app http.Handler) []struct {
	name  string
	serve func(context.Context, string) error
} {
	return []struct {
		name  string
		serve func(context.Context, string) error
	}{
		{"proxyV1", func(ctx context.Context, event string) error {
			_, err := answerPings(proxyV1(app))(ctx, json.RawMessage(event))
			return err
		}},
		{"proxyV2", func(ctx context.Context, event string) error {
			_, err := answerPings(proxyV2(app))(ctx, json.RawMessage(event))
			return err
		}},
	}
}
