package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// The two payloads share field names (headers, body) but not where the
// method, the path and the cookies go, and both decode without an error
// into either Go type. Sent to the other payload's handler, every request
// became GET /, a 2.0 event's cookies array was not read, and a 1.0
// event's answer carried its Set-Cookie lines in cookies, a field a REST
// API and a load balancer ignore: no session, and nothing said. Each
// handler refuses an event without the method its payload always has.
var (
	errPayload1 = errors.New("cookiesession example: this event has no httpMethod, which every payload 1.0 event has: " +
		"a payload 2.0 event (an HTTP API's or a function URL's) reached the payload 1.0 handler, " +
		"which would serve it as GET / without its cookies array; unset API_GATEWAY_PAYLOAD")
	errPayload2 = errors.New("cookiesession example: this event has no requestContext.http.method, which every payload 2.0 event has: " +
		"a payload 1.0 event (a REST API's or an Application Load Balancer's) reached the payload 2.0 handler, " +
		"which would serve it as GET / and answer its Set-Cookie lines in cookies, which payload 1.0 does not read; " +
		"set API_GATEWAY_PAYLOAD=1.0")
)

// refuse logs err at Error, since Lambda's runtime does not log what a
// handler returns, and returns it: the event's source answers 502.
func refuse(ctx context.Context, err error) error {
	slog.ErrorContext(ctx, err.Error())
	return err
}

// notHTTP logs an event with no method and no header at all, which no
// HTTP source sends (every one names at least the Host): a warm-up ping
// (serverless-plugin-warmup's, a scheduled rule's {}) or a test. It is
// answered with an empty response and no error, and the app does not
// run: an error would fail the invocation, which Lambda retries twice
// when the invocation is asynchronous, as a scheduled ping's is.
func notHTTP(ctx context.Context) {
	slog.InfoContext(ctx, "cookiesession example: an event with no method and no headers, not an HTTP request (a warm-up ping?), was answered empty; the app did not run")
}

// proxyV2 serves payload 2.0's events (an HTTP API, a function URL)
// through httpadapter.NewV2, and refuses any other HTTP event.
func proxyV2(app http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	proxy := httpadapter.NewV2(app)
	return func(ctx context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if event.RequestContext.HTTP.Method == "" {
			if len(event.Headers) == 0 && len(event.Cookies) == 0 {
				notHTTP(ctx)
				return events.APIGatewayV2HTTPResponse{}, nil
			}
			return events.APIGatewayV2HTTPResponse{}, refuse(ctx, errPayload2)
		}
		return proxy.ProxyWithContext(ctx, event)
	}
}
