package main

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// proxyV1 serves payload 1.0's events through httpadapter.New, which
// answers in multiValueHeaders only. API Gateway's REST APIs, and an
// Application Load Balancer with its target group's multi-value headers
// on, send multiValueHeaders and read them back. With them off, the load
// balancer sends headers only and reads only headers, a map that holds one
// Set-Cookie line: proxyV1 answers such an event in headers, and refuses a
// response of several Set-Cookie lines (a session over two chunks, or one
// with a left-over chunk to expire) with a 500 and an Error naming the fix,
// so that no chunk and no expiry is dropped without a word. The request
// is made of both of the event's header maps (withHeaders), and of a load
// balancer's query parameters decoded (withQuery). An event
// without an httpMethod is refused (payload.go; main answers one that is
// no HTTP request first: answerPings).
func proxyV1(app http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	proxy := httpadapter.New(app)
	return func(ctx context.Context, event events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if event.HTTPMethod == "" {
			return events.APIGatewayProxyResponse{}, refuse(ctx, errPayload1)
		}
		out, err := proxy.ProxyWithContext(ctx, withQuery(withHeaders(event)))
		if err != nil || event.MultiValueHeaders != nil {
			return out, err
		}
		return singleValue(ctx, out), nil
	}
}

// withHeaders returns event with each of its headers that its
// multiValueHeaders lack (or hold no value of), in any case of the name,
// added to them. httpadapter.New reads multiValueHeaders alone when the
// event has them, even empty: a hand-made event (a test fixture, a `sam
// local invoke` event) with "multiValueHeaders": {} beside its headers
// lost them all, its Cookie with them, and the user looked signed out.
// API Gateway fills both maps alike, and then nothing is added.
func withHeaders(event events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
	if event.MultiValueHeaders == nil || len(event.Headers) == 0 {
		return event
	}
	have := make(map[string]bool, len(event.MultiValueHeaders))
	for k, v := range event.MultiValueHeaders {
		if len(v) > 0 {
			have[textproto.CanonicalMIMEHeaderKey(k)] = true
		}
	}
	var merged map[string][]string
	for k, v := range event.Headers {
		if have[textproto.CanonicalMIMEHeaderKey(k)] {
			continue
		}
		if merged == nil {
			merged = maps.Clone(event.MultiValueHeaders)
		}
		merged[k] = []string{v}
	}
	if merged != nil {
		event.MultiValueHeaders = merged
	}
	return event
}

// withQuery returns event with its query parameters decoded if it is an
// Application Load Balancer's. A load balancer passes them as the client
// encoded them, where API Gateway decodes them, and httpadapter.New
// encodes them again for both: ?next=%2Fadmin read "%2Fadmin", and a
// provider's code=4%2F0A "4%2F0A". A load balancer's requestContext holds
// only elb, which the event's type does not keep: an event without the
// requestId, stage and domainName every API Gateway event has is taken for
// one.
//
// Keys that decode alike (a and %61, a+b and a%20b) become one. The event
// keeps no order across its keys (a JSON object, a Go map), so which the
// client sent first is not known: they are taken in the byte order of the
// keys as sent ("%61" before "a"), so that a request reads the same at
// every invocation. With multi-value headers on, their values are joined
// in that order, each key's in the order the client sent them; with them
// off, where the event holds one value a key, the value of the key last in
// that order is kept (a's over %61's).
func withQuery(event events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
	if rc := event.RequestContext; rc.RequestID != "" || rc.Stage != "" || rc.DomainName != "" {
		return event
	}
	if len(event.QueryStringParameters) > 0 {
		decoded := make(map[string]string, len(event.QueryStringParameters))
		for _, k := range slices.Sorted(maps.Keys(event.QueryStringParameters)) {
			decoded[unescape(k)] = unescape(event.QueryStringParameters[k])
		}
		event.QueryStringParameters = decoded
	}
	if len(event.MultiValueQueryStringParameters) > 0 {
		decoded := make(map[string][]string, len(event.MultiValueQueryStringParameters))
		for _, k := range slices.Sorted(maps.Keys(event.MultiValueQueryStringParameters)) {
			key := unescape(k)
			for _, v := range event.MultiValueQueryStringParameters[k] {
				decoded[key] = append(decoded[key], unescape(v))
			}
		}
		event.MultiValueQueryStringParameters = decoded
	}
	return event
}

// unescape decodes a query string's key or value as net/url does ("+" is
// a space), and keeps one it cannot decode (a stray "%") as it came.
func unescape(s string) string {
	if decoded, err := url.QueryUnescape(s); err == nil {
		return decoded
	}
	return s
}

// singleValue moves out's headers into its single-value headers map.
func singleValue(ctx context.Context, out events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	headers := make(map[string]string, len(out.MultiValueHeaders))
	for k, v := range out.MultiValueHeaders {
		if len(v) > 1 && strings.EqualFold(k, "Set-Cookie") {
			slog.ErrorContext(ctx, "cookiesession: this response has several Set-Cookie lines, and its event came with no multiValueHeaders, "+
				"whose response carries one (an Application Load Balancer with multi-value headers off): answered 500 in its place, "+
				"and the client keeps its cookies as they were; turn on lambda.multi_value_headers.enabled in the target group's attributes "+
				"(a hand-made test event: give it a multiValueHeaders, even empty, as API Gateway's REST events have)",
				"lines", len(v), "status", out.StatusCode)
			return events.APIGatewayProxyResponse{
				StatusCode: http.StatusInternalServerError,
				Headers: map[string]string{"Cache-Control": "no-store",
					"Content-Type": "text/plain; charset=utf-8"},
				Body: http.StatusText(http.StatusInternalServerError) + "\n",
			}
		}
		headers[k] = strings.Join(v, ", ")
	}
	out.Headers, out.MultiValueHeaders = headers, nil
	return out
}
