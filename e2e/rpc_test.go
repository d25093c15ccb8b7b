package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/seed-ff2808ae/cookiesession"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RPC frameworks that ride on net/http, through Manager.Handler under
// http.CrossOriginProtection, with their own clients over HTTP/2 (h2c and
// TLS) on 127.0.0.1: connect-go (the Connect, gRPC and gRPC-Web protocols
// on one handler) and grpc-go's (*grpc.Server).ServeHTTP. One service,
// test.Auth, whose messages are JSON through a codec of the test's own, so
// no code is generated:
//
//	Login   stores the user it is given
//	Whoami  answers the session's user and note, and the HTTP method
//	Fail    stores a note, then fails with PermissionDenied
//	Watch   a server stream: "before" stores bob, then sends; "after" sends,
//	        waits for the client to have read it (so the message was
//	        flushed), stores carol and sends again. Both end with the
//	        trailer x-done: yes.

// rpcMsg is every message of test.Auth.
type rpcMsg struct {
	User   string `json:"user,omitempty"`
	Note   string `json:"note,omitempty"`
	Method string `json:"method,omitempty"`
}

// jsonCodec marshals rpcMsg with encoding/json; it is a connect.Codec
// (stable, for Connect's GET) and a grpc encoding.Codec.
type jsonCodec struct{}

func (jsonCodec) Name() string                        { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)       { return json.Marshal(v) }
func (jsonCodec) MarshalStable(v any) ([]byte, error) { return json.Marshal(v) }
func (jsonCodec) Unmarshal(b []byte, v any) error     { return json.Unmarshal(b, v) }
func (jsonCodec) IsBinary() bool                      { return false }

const (
	denied    = "no entry"
	lateWarn  = "session changed after the response was committed"
	watchWait = 10 * time.Second // the most "after" waits for the client
)

// rpcServer is test.Auth behind one Manager, whose log the test reads.
type rpcServer struct {
	srv  *httptest.Server
	log  syncLog
	read chan struct{} // the client has read Watch's first message
}

// newRPCServer serves the handler mount builds from the server, behind
// CrossOriginProtection and the Manager, over h2c or TLS with HTTP/2.
func newRPCServer(t *testing.T, overTLS bool, mount func(*rpcServer) http.Handler) *rpcServer {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	rs := &rpcServer{read: make(chan struct{}, 1)}
	sessions, err := cookiesession.New(ring, cookiesession.Options{
		Logger: slog.New(slog.NewTextHandler(&rs.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	rs.srv = httptest.NewUnstartedServer(http.NewCrossOriginProtection().Handler(sessions.Handler(mount(rs))))
	if overTLS {
		rs.srv.EnableHTTP2 = true
		rs.srv.StartTLS()
	} else {
		rs.srv.Config.Protocols = new(http.Protocols)
		rs.srv.Config.Protocols.SetUnencryptedHTTP2(true)
		rs.srv.Start()
	}
	t.Cleanup(rs.srv.Close)
	return rs
}

// client returns an HTTP/2 client with a cookie jar.
func (rs *rpcServer) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs.srv.TLS != nil {
		c := rs.srv.Client()
		c.Jar = jar
		return c
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar}
}

// readOne tells Watch that a message was read; one the "after" stream
// does not wait for is dropped.
func (rs *rpcServer) readOne() {
	select {
	case rs.read <- struct{}{}:
	default:
	}
}

// session is the session of an RPC's context.
func session(ctx context.Context) *cookiesession.Session { return cookiesession.FromContext(ctx) }

func rpcLogin(ctx context.Context, in *rpcMsg) *rpcMsg {
	_ = session(ctx).Set("user", in.User)
	return &rpcMsg{User: in.User}
}

func whoami(ctx context.Context, method string) *rpcMsg {
	s := session(ctx)
	return &rpcMsg{User: s.GetString("user"), Note: s.GetString("note"), Method: method}
}

func fail(ctx context.Context) {
	_ = session(ctx).Set("note", "tried")
}

// watch is Watch's body; send sends one message.
func (rs *rpcServer) watch(ctx context.Context, when string, send func(*rpcMsg) error) error {
	s := session(ctx)
	if when == "before" {
		_ = s.Set("user", "bob")
	}
	select {
	case <-rs.read: // a token left by an earlier stream
	default:
	}
	if err := send(&rpcMsg{User: s.GetString("user")}); err != nil {
		return err
	}
	if when == "after" {
		select {
		case <-rs.read:
		case <-time.After(watchWait):
			return errors.New("the client never read the first message: it was not flushed")
		}
		_ = s.Set("user", "carol")
	}
	return send(&rpcMsg{User: s.GetString("user"), Note: "second"})
}

// ourLines returns the session's Set-Cookie lines among lines.
func ourLines(lines []string) []string {
	var ours []string
	for _, line := range lines {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == cookieName {
			ours = append(ours, line)
		}
	}
	return ours
}

// checkWatch checks what a Watch stream gave the client: the header's
// Set-Cookie lines, the messages, the trailer, and the log.
func checkWatch(t *testing.T, rs *rpcServer, when string, header, trailer map[string][]string, msgs []rpcMsg) {
	t.Helper()
	h, tr := http.Header(header), http.Header(trailer)
	cookie := ourLines(h.Values("Set-Cookie"))
	wantUser := "bob"
	if when == "before" && len(cookie) != 1 {
		t.Errorf("headers' Set-Cookie %q, want the session's cookie, stored before the first message", cookie)
	}
	if when == "after" {
		wantUser = "carol"
		if len(cookie) != 0 {
			t.Errorf("headers' Set-Cookie %q, want none: nothing changed before the first message", cookie)
		}
		if log := rs.log.reset(); !strings.Contains(log, lateWarn) {
			t.Errorf("the change after the first message was not logged:\n%s", log)
		}
	}
	if len(msgs) != 2 || msgs[1].User != wantUser {
		t.Errorf("messages %+v, want two, the second for %s", msgs, wantUser)
	}
	if got := tr.Get("X-Done"); got != "yes" {
		t.Errorf("trailer x-done %q, want yes; trailer %q", got, tr)
	}
	for key := range tr {
		if strings.EqualFold(key, "Set-Cookie") || strings.EqualFold(key, "Vary") {
			t.Errorf("trailer holds %s: %q", key, tr[key])
		}
	}
}

// connectAuth mounts test.Auth as connect-go handlers.
func connectAuth(rs *rpcServer) http.Handler {
	mux := http.NewServeMux()
	codec := connect.WithCodec(jsonCodec{})
	mux.Handle("/test.Auth/Login", connect.NewUnaryHandlerSimple("/test.Auth/Login",
		func(ctx context.Context, in *rpcMsg) (*rpcMsg, error) { return rpcLogin(ctx, in), nil }, codec))
	mux.Handle("/test.Auth/Whoami", connect.NewUnaryHandler("/test.Auth/Whoami",
		func(ctx context.Context, req *connect.Request[rpcMsg]) (*connect.Response[rpcMsg], error) {
			return connect.NewResponse(whoami(ctx, req.HTTPMethod())), nil
		}, codec, connect.WithIdempotency(connect.IdempotencyNoSideEffects)))
	mux.Handle("/test.Auth/Fail", connect.NewUnaryHandlerSimple("/test.Auth/Fail",
		func(ctx context.Context, _ *rpcMsg) (*rpcMsg, error) {
			fail(ctx)
			return nil, connect.NewError(connect.CodePermissionDenied, errors.New(denied))
		}, codec))
	mux.Handle("/test.Auth/Watch", connect.NewServerStreamHandlerSimple("/test.Auth/Watch",
		func(ctx context.Context, in *rpcMsg, stream *connect.ServerStream[rpcMsg]) error {
			stream.ResponseTrailer().Set("X-Done", "yes")
			return rs.watch(ctx, in.Note, stream.Send)
		}, codec))
	return mux
}

// TestConnectRPC runs test.Auth through the middleware with connect-go's
// client in each protocol, over h2c and over TLS: a login's cookie comes
// back with the next call; an RPC that stores and then fails sends the
// cookie with its error, like any answer; Connect's GET of an idempotent
// RPC carries the cookie; a server stream's change before its first
// message goes out with the headers, one after it is logged as lost;
// trailers arrive as the handler set them, with nothing of the session's.
func TestConnectRPC(t *testing.T) {
	protocols := map[string][]connect.ClientOption{
		"connect": nil,
		"grpc":    {connect.WithGRPC()},
		"grpcweb": {connect.WithGRPCWeb()},
	}
	for _, overTLS := range []bool{false, true} {
		for name, opts := range protocols {
			t.Run(fmt.Sprintf("%s/tls=%t", name, overTLS), func(t *testing.T) {
				rs := newRPCServer(t, overTLS, connectAuth)
				hc := rs.client(t)
				opts := append([]connect.ClientOption{connect.WithCodec(jsonCodec{})}, opts...)
				call := func(proc string, in *rpcMsg, more ...connect.ClientOption) (*connect.Response[rpcMsg], error) {
					c := connect.NewClient[rpcMsg, rpcMsg](hc, rs.srv.URL+"/test.Auth/"+proc, append(opts, more...)...)
					return c.CallUnary(t.Context(), connect.NewRequest(in))
				}
				whoamiIs := func(user, note string, more ...connect.ClientOption) string {
					t.Helper()
					resp, err := call("Whoami", &rpcMsg{}, more...)
					if err != nil {
						t.Fatalf("Whoami: %v", err)
					}
					if resp.Msg.User != user || resp.Msg.Note != note {
						t.Errorf("Whoami %+v, want user %q note %q", resp.Msg, user, note)
					}
					return resp.Msg.Method
				}

				resp, err := call("Login", &rpcMsg{User: "alice"})
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if got := ourLines(resp.Header().Values("Set-Cookie")); len(got) != 1 {
					t.Errorf("Login's headers set %q, want the session's cookie", got)
				}
				if got := ourLines(resp.Trailer().Values("Set-Cookie")); len(got) != 0 {
					t.Errorf("Login's trailer sets %q", got)
				}
				whoamiIs("alice", "")

				_, err = call("Fail", &rpcMsg{})
				if connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), denied) {
					t.Errorf("Fail: %v, want PermissionDenied %q", err, denied)
				}
				whoamiIs("alice", "tried") // the error's answer carried the cookie

				if name == "connect" {
					get := []connect.ClientOption{connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects)}
					if method := whoamiIs("alice", "tried", get...); method != http.MethodGet {
						t.Errorf("Whoami went as %s, want GET", method)
					}
				}

				for _, when := range []string{"before", "after"} {
					c := connect.NewClient[rpcMsg, rpcMsg](hc, rs.srv.URL+"/test.Auth/Watch", opts...)
					stream, err := c.CallServerStream(t.Context(), connect.NewRequest(&rpcMsg{Note: when}))
					if err != nil {
						t.Fatalf("Watch %s: %v", when, err)
					}
					var msgs []rpcMsg
					for stream.Receive() {
						msgs = append(msgs, *stream.Msg())
						rs.readOne()
					}
					if err := stream.Err(); err != nil {
						t.Errorf("Watch %s: %v", when, err)
					}
					checkWatch(t, rs, when, stream.ResponseHeader(), stream.ResponseTrailer(), msgs)
					stream.Close()
				}
				whoamiIs("bob", "tried") // carol, stored after the first message, is lost
			})
		}
	}
}

// grpcAuth mounts test.Auth on a grpc.Server, served by its ServeHTTP.
func grpcAuth(rs *rpcServer) http.Handler {
	srv := grpc.NewServer(grpc.ForceServerCodec(jsonCodec{}))
	unary := func(f func(context.Context, *rpcMsg) (*rpcMsg, error)) grpc.MethodHandler {
		return func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(rpcMsg)
			if err := dec(in); err != nil {
				return nil, err
			}
			return f(ctx, in)
		}
	}
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.Auth",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Login", Handler: unary(func(ctx context.Context, in *rpcMsg) (*rpcMsg, error) { return rpcLogin(ctx, in), nil })},
			{MethodName: "Whoami", Handler: unary(func(ctx context.Context, _ *rpcMsg) (*rpcMsg, error) { return whoami(ctx, ""), nil })},
			{MethodName: "Fail", Handler: unary(func(ctx context.Context, _ *rpcMsg) (*rpcMsg, error) {
				fail(ctx)
				return nil, status.Error(codes.PermissionDenied, denied)
			})},
		},
		Streams: []grpc.StreamDesc{{StreamName: "Watch", ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			in := new(rpcMsg)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			stream.SetTrailer(metadata.Pairs("x-done", "yes"))
			return rs.watch(stream.Context(), in.Note, func(m *rpcMsg) error { return stream.SendMsg(m) })
		}}},
	}, struct{}{})
	return srv
}

// grpcJar is a cookie jar for a grpc-go client, which has none: it sends
// the cookie it holds as metadata, and keeps what a response's header
// metadata sets.
type grpcJar struct{ cookie string }

func (j *grpcJar) outgoing(ctx context.Context) context.Context {
	if j.cookie == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "cookie", j.cookie)
}

func (j *grpcJar) keep(header metadata.MD) {
	for _, line := range ourLines(header.Get("set-cookie")) {
		if c, err := http.ParseSetCookie(line); err == nil {
			j.cookie = c.Name + "=" + c.Value
		}
	}
}

// TestGRPCServeHTTP runs test.Auth on grpc-go's ServeHTTP through the
// middleware, with grpc-go's client over h2c and TLS: as TestConnectRPC,
// with the cookie in header metadata; grpc-go flushes through the
// middleware's writer, and its grpc-status trailer and the handler's
// arrive unchanged.
func TestGRPCServeHTTP(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%t", overTLS), func(t *testing.T) {
			rs := newRPCServer(t, overTLS, grpcAuth)
			creds := insecure.NewCredentials()
			if overTLS {
				creds = credentials.NewTLS(&tls.Config{RootCAs: rs.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})
			}
			conn, err := grpc.NewClient(strings.TrimPrefix(strings.TrimPrefix(rs.srv.URL, "http://"), "https://"),
				grpc.WithTransportCredentials(creds), grpc.WithDefaultCallOptions(grpc.ForceCodec(jsonCodec{})))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			jar := new(grpcJar)
			call := func(method string, in *rpcMsg) (*rpcMsg, metadata.MD, metadata.MD, error) {
				out := new(rpcMsg)
				var header, trailer metadata.MD
				err := conn.Invoke(jar.outgoing(t.Context()), "/test.Auth/"+method, in, out, grpc.Header(&header), grpc.Trailer(&trailer))
				jar.keep(header)
				return out, header, trailer, err
			}
			whoamiIs := func(user, note string) {
				t.Helper()
				out, _, _, err := call("Whoami", &rpcMsg{})
				if err != nil {
					t.Fatalf("Whoami: %v", err)
				}
				if out.User != user || out.Note != note {
					t.Errorf("Whoami %+v, want user %q note %q", out, user, note)
				}
			}

			_, header, trailer, err := call("Login", &rpcMsg{User: "alice"})
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if got := ourLines(header.Get("set-cookie")); len(got) != 1 {
				t.Errorf("Login's header metadata sets %q, want the session's cookie", got)
			}
			if got := trailer.Get("set-cookie"); len(got) != 0 {
				t.Errorf("Login's trailer sets %q", got)
			}
			whoamiIs("alice", "")

			_, _, _, err = call("Fail", &rpcMsg{})
			if st, _ := status.FromError(err); st.Code() != codes.PermissionDenied || st.Message() != denied {
				t.Errorf("Fail: %v, want PermissionDenied %q", err, denied)
			}
			whoamiIs("alice", "tried")

			desc := &grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}
			for _, when := range []string{"before", "after"} {
				stream, err := conn.NewStream(jar.outgoing(t.Context()), desc, "/test.Auth/Watch")
				if err != nil {
					t.Fatal(err)
				}
				if err := stream.SendMsg(&rpcMsg{Note: when}); err != nil {
					t.Fatal(err)
				}
				if err := stream.CloseSend(); err != nil {
					t.Fatal(err)
				}
				var msgs []rpcMsg
				for {
					var m rpcMsg
					if err := stream.RecvMsg(&m); err != nil {
						if !errors.Is(err, io.EOF) {
							t.Errorf("Watch %s: %v", when, err)
						}
						break
					}
					msgs = append(msgs, m)
					rs.readOne()
				}
				header, err := stream.Header()
				if err != nil {
					t.Fatal(err)
				}
				jar.keep(header)
				checkWatch(t, rs, when, canonical(header), canonical(stream.Trailer()), msgs)
			}
			whoamiIs("bob", "tried")
		})
	}
}

// canonical gives metadata's lower-case keys their HTTP form.
func canonical(md metadata.MD) http.Header {
	h := http.Header{}
	for key, values := range md {
		for _, v := range values {
			h.Add(key, v)
		}
	}
	return h
}
