package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

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
		{"with no value of the cookie", map[string][]string{"Cookie": {}}},
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

// TestWrongPayloadRefused sends each handler main may start the other
// payload's events, a setting of API_GATEWAY_PAYLOAD that does not match
// the function's trigger. Both payloads decode into either Go type
// without an error: served, every request became GET / with no session,
// and a payload 1.0 event's Set-Cookie lines went into cookies, which
// its source does not read. Each is refused with an error, logged at
// Error, that names the setting; the app does not run.
func TestWrongPayloadRefused(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	ran := false
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })
	ctx := context.Background()
	alb := []byte(`{"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/0123456789abcdef"}},
		"httpMethod": "GET", "path": "/", "queryStringParameters": {},
		"headers": {"cookie": "session=AAAA", "host": "alb.example.com", "x-forwarded-proto": "https"},
		"body": "", "isBase64Encoded": false}`)

	for _, tc := range []struct {
		name  string
		serve func() error
		fix   string
	}{
		{"a function URL's event to proxyV1", func() error {
			_, err := proxyV1(app)(ctx, decode[events.APIGatewayProxyRequest](t, functionURLEvent(t, "POST", "/note", "note=a", []string{"session=AAAA"}, inBoth)))
			return err
		}, "unset API_GATEWAY_PAYLOAD"},
		{"a REST API's event to proxyV2", func() error {
			_, err := proxyV2(app)(ctx, decode[events.APIGatewayV2HTTPRequest](t, restEvent(t, "POST", "/note", "note=a", "session=AAAA", nil)))
			return err
		}, "set API_GATEWAY_PAYLOAD=1.0"},
		{"a load balancer's event to proxyV2", func() error {
			_, err := proxyV2(app)(ctx, decode[events.APIGatewayV2HTTPRequest](t, alb))
			return err
		}, "set API_GATEWAY_PAYLOAD=1.0"},
	} {
		before := len(logs.String())
		ran = false
		err := tc.serve()
		if err == nil || !strings.HasSuffix(err.Error(), tc.fix) {
			t.Errorf("%s: error %v, want one that ends %q", tc.name, err, tc.fix)
		}
		if got := logs.String()[before:]; !strings.Contains(got, "level=ERROR") || !strings.Contains(got, tc.fix) {
			t.Errorf("%s: logged %q", tc.name, got)
		}
		if ran {
			t.Errorf("%s: the app ran", tc.name)
		}
	}
}

// TestWarmUpPingAnsweredEmpty sends each handler main may start, as main
// starts it (answerPings), the events a warm-up plugin or a scheduled
// rule sends, which are not HTTP requests (none of an HTTP event's
// fields): an error would fail the invocation, which Lambda retries when
// it is asynchronous, so each is answered empty, without an error and
// without running the app, and logged at Info.
func TestWarmUpPingAnsweredEmpty(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ran := false
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })
	ctx := context.Background()
	scheduled := `{"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", "source": "aws.events",
		"account": "123456789012", "time": "2026-12-03T07:00:00Z", "region": "eu-west-1",
		"resources": ["arn:aws:events:eu-west-1:123456789012:rule/warm"], "detail": {}}`
	for _, ping := range []string{`{}`, `null`, `{"source": "serverless-plugin-warmup"}`, scheduled} {
		for _, tc := range pingAnswerers(app) {
			before := len(logs.String())
			ran = false
			if err := tc.serve(ctx, ping); err != nil {
				t.Errorf("%s, %s: %v", tc.name, ping, err)
			}
			if got := logs.String()[before:]; !strings.Contains(got, "level=INFO") || !strings.Contains(got, "not an HTTP request") {
				t.Errorf("%s, %s: logged %q", tc.name, ping, got)
			}
			if ran {
				t.Errorf("%s, %s: the app ran", tc.name, ping)
			}
		}
	}
}

// TestHTTPEventNotTakenForPing sends the payload 2.0 handler, as main
// starts it, payload 1.0 events that its type decodes to nothing of a
// request: a load balancer's with multi-value headers on (its headers in
// multiValueHeaders, which payload 2.0 lacks) and a REST API's test
// event, whose headers are null. Each is refused at Error with the
// setting to change, as any event of the other payload is, not answered
// empty at Info as a warm-up ping, which its source turns into a 502
// with nothing said.
func TestHTTPEventNotTakenForPing(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	ran := false
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })
	for name, event := range map[string]string{
		"a load balancer's event with multi-value headers": `{"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/0123456789abcdef"}},
			"httpMethod": "GET", "path": "/", "multiValueQueryStringParameters": {},
			"multiValueHeaders": {"cookie": ["session=AAAA"], "host": ["alb.example.com"], "x-forwarded-proto": ["https"]},
			"body": "", "isBase64Encoded": false}`,
		"a REST API's test event": `{"resource": "/", "path": "/", "httpMethod": "GET", "headers": null, "multiValueHeaders": null,
			"queryStringParameters": null, "requestContext": {"resourcePath": "/", "httpMethod": "GET", "stage": "test-invoke-stage", "requestId": "id"},
			"body": null, "isBase64Encoded": false}`,
		"an event with headers alone": `{"Headers": null}`,
	} {
		before := len(logs.String())
		ran = false
		_, err := answerPings(proxyV2(app))(context.Background(), json.RawMessage(event))
		if err == nil || !strings.HasSuffix(err.Error(), "set API_GATEWAY_PAYLOAD=1.0") {
			t.Errorf("%s: error %v, want the payload 1.0 setting named", name, err)
		}
		if got := logs.String()[before:]; !strings.Contains(got, "level=ERROR") {
			t.Errorf("%s: logged %q", name, got)
		}
		if ran {
			t.Errorf("%s: the app ran", name)
		}
	}
}

// TestRecordsNotTakenForPing sends each handler main may start, as main
// starts it, the events of a source that hands the function data: an SQS
// queue's, a Kinesis stream's, an S3 bucket's notification (Records), a
// Kafka topic's (eventSource, records), a CloudWatch Logs subscription's
// (awslogs) and an EventBridge rule's other than a schedule (detail-type).
// None has an HTTP event's fields, and each was answered empty at Info as a
// warm-up ping: the source takes a success for its data handled, so a queue
// deleted its messages and a stream moved past its records, with no Warn or
// Error, when such a trigger was put on this HTTP function by mistake. Each
// is now refused at Error with the fix, so that its source keeps or retries
// it; the app does not run.
func TestRecordsNotTakenForPing(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ran := false
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })
	ctx := context.Background()
	for name, event := range map[string]string{
		"an SQS queue's": `{"Records": [{"messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78", "receiptHandle": "MessageReceiptHandle",
			"body": "Hello from SQS!", "attributes": {}, "messageAttributes": {}, "md5OfBody": "7b270e59b47ff90a553787216d55d91d",
			"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:MyQueue", "awsRegion": "eu-west-1"}]}`,
		"a Kinesis stream's": `{"Records": [{"kinesis": {"partitionKey": "1", "sequenceNumber": "4959", "data": "SGVsbG8="},
			"eventSource": "aws:kinesis", "eventID": "shardId-000000000000:4959", "eventName": "aws:kinesis:record"}]}`,
		"an S3 bucket's": `{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
			"s3": {"bucket": {"name": "uploads"}, "object": {"key": "a.txt", "size": 5}}}]}`,
		"a Kafka topic's": `{"eventSource": "aws:kafka", "bootstrapServers": "b-1.example.com:9092",
			"records": {"orders-0": [{"topic": "orders", "partition": 0, "offset": 15, "value": "SGVsbG8="}]}}`,
		"a CloudWatch Logs subscription's": `{"awslogs": {"data": "H4sIAAAAAAAAAHWPwQqCQBCGX0Xm7EFtK+smZBEUgXoLCdMhFtKV3akI8d0bLYmibvPPN3wz00CJxmQnTO41whwWQRIctmEcB6sQbFC3CjW3XW8kxpOpP+OC22d1Wml1qZkQGtoMsScxaczKN3plG8zlaHIta5KqWsozoTYw3/djzwhpLwivWFGHGpAFe7DL68JlBUk+l7KSN7tCOEJ4M3/qOI49vMHj+zCKdlFqLaU2ZHV2a4Ct/an0/ivdX8oYc1UVX860fQDQiMdxRQEAAA=="}}`,
		"an EventBridge rule's": `{"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Order Placed", "source": "com.example.orders",
			"account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "eu-west-1", "resources": [], "detail": {"orderId": "42"}}`,
	} {
		for _, tc := range pingAnswerers(app) {
			before := len(logs.String())
			ran = false
			err := tc.serve(ctx, event)
			if err == nil || !strings.Contains(err.Error(), "remove this trigger") {
				t.Errorf("%s, %s: error %v, want one that names the trigger to remove", tc.name, name, err)
			}
			if got := logs.String()[before:]; !strings.Contains(got, "level=ERROR") || strings.Contains(got, "warm-up ping") {
				t.Errorf("%s, %s: logged %q", tc.name, name, got)
			}
			if ran {
				t.Errorf("%s, %s: the app ran", tc.name, name)
			}
		}
	}
}
