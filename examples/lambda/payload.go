package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	errRecords = errors.New("cookiesession example: this event carries a source's data (Records or eventSource: an SQS queue's, an SNS topic's, " +
		"an S3 bucket's, a Kinesis or DynamoDB stream's, a Kafka or Amazon MQ broker's; awslogs: a CloudWatch Logs subscription's; " +
		"a detail-type other than Scheduled Event: an EventBridge rule's), not an HTTP request, and this function serves HTTP only: " +
		"refused, since a success would have its source take the data as handled (a queue deletes its messages, a stream moves past them); " +
		"remove this trigger from the function, or point it at one that handles its events")
)

// refuse logs err at Error, since Lambda's runtime does not log what a
// handler returns, and returns it: the event's source answers 502.
func refuse(ctx context.Context, err error) error {
	slog.ErrorContext(ctx, err.Error())
	return err
}

// httpEvent holds which top-level fields of an HTTP event an event has,
// of those every payload 1.0 or 2.0 source sends (a REST API, an HTTP
// API, a function URL, a load balancer), matched as encoding/json matches
// them when it decodes either payload's type, and set by null too. An
// event with none of them is no HTTP request. One of them is enough to
// say it is one: a REST API's test event has "headers": null, and a load
// balancer with multi-value headers on sends neither headers nor a
// requestContext.http.method, so the payload 2.0 type holds nothing of
// that request. Its values are not copied (a body may be megabytes).
type httpEvent struct {
	RequestContext                  present `json:"requestContext"`
	HTTPMethod                      present `json:"httpMethod"`
	Headers                         present `json:"headers"`
	MultiValueHeaders               present `json:"multiValueHeaders"`
	Cookies                         present `json:"cookies"`
	Path                            present `json:"path"`
	RawPath                         present `json:"rawPath"`
	RouteKey                        present `json:"routeKey"`
	Resource                        present `json:"resource"`
	Body                            present `json:"body"`
	IsBase64Encoded                 present `json:"isBase64Encoded"`
	QueryStringParameters           present `json:"queryStringParameters"`
	MultiValueQueryStringParameters present `json:"multiValueQueryStringParameters"`
	RawQueryString                  present `json:"rawQueryString"`
}

// sourceEvent holds which top-level fields an event source that hands
// the function data puts in its event: Records (SQS, SNS, S3, Kinesis,
// DynamoDB Streams, SES; matched in any case, as encoding/json matches,
// so a Firehose's and a Kafka topic's records too), eventSource (Kafka,
// Amazon MQ, DocumentDB), awslogs (a CloudWatch Logs subscription) and an
// EventBridge event's detail-type, but a schedule's (a rule's own event,
// which warm-up pings use). Such an event is no ping: its source takes an
// empty success for its data handled.
type sourceEvent struct {
	Records     present `json:"Records"`
	EventSource present `json:"eventSource"`
	Awslogs     present `json:"awslogs"`
	DetailType  string  `json:"detail-type"`
}

// data reports whether e holds a source's data.
func (e sourceEvent) data() bool {
	return bool(e.Records || e.EventSource || e.Awslogs) || e.DetailType != "" && e.DetailType != "Scheduled Event"
}

// present is set when its field is in the event, whatever its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

// answerPings serves the events that are no HTTP request (see
// httpEvent) with an empty response, logged at Info, and gives serve
// every other event, decoded as its payload: a warm-up ping
// (serverless-plugin-warmup's), a scheduled rule's (its own event, or a
// constant {}) or a test. An error would fail the invocation, which
// Lambda retries twice when it is asynchronous, as a scheduled ping's
// is; the app does not run. A source's data (see sourceEvent) is refused
// at Error instead, so that the source keeps it, retries it or sends it
// to its dead-letter queue. It reads the event's JSON itself: decoded
// into either payload's type, an HTTP event of the other payload may
// hold nothing, and serve refuses it at Error.
func answerPings[E, R any](serve func(context.Context, E) (R, error)) func(context.Context, json.RawMessage) (R, error) {
	return func(ctx context.Context, raw json.RawMessage) (R, error) {
		var answer R
		if none, data := notHTTP(raw); data {
			return answer, refuse(ctx, errRecords)
		} else if none {
			slog.InfoContext(ctx, "cookiesession example: an event with none of an HTTP event's fields, not an HTTP request (a warm-up ping?), was answered empty; the app did not run")
			return answer, nil
		}
		var event E
		if err := json.Unmarshal(raw, &event); err != nil {
			return answer, refuse(ctx, fmt.Errorf("cookiesession example: the event is not an API Gateway or load balancer event: %w", err))
		}
		return serve(ctx, event)
	}
}

// notHTTP reports whether raw is a JSON object (or null) with none of
// httpEvent's fields, and data whether it then has one of sourceEvent's.
func notHTTP(raw json.RawMessage) (notHTTP, data bool) {
	var seen struct {
		httpEvent
		sourceEvent
	}
	if json.Unmarshal(raw, &seen) != nil || seen.httpEvent != (httpEvent{}) {
		return false, false
	}
	return true, seen.sourceEvent.data()
}

// proxyV2 serves payload 2.0's events (an HTTP API, a function URL)
// through httpadapter.NewV2, and refuses any other event (main answers
// one that is no HTTP request first: answerPings).
func proxyV2(app http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	proxy := httpadapter.NewV2(app)
	return func(ctx context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if event.RequestContext.HTTP.Method == "" {
			return events.APIGatewayV2HTTPResponse{}, refuse(ctx, errPayload2)
		}
		return proxy.ProxyWithContext(ctx, event)
	}
}
