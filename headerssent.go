package cookiesession

import (
	"io"
	"net/http"
	"reflect"
)

// headersSent reports whether w, or a writer it wraps, says it has sent
// the response's headers: gin's writer, which sends them only with
// WriteHeaderNow (which its Write calls), answers through Written before a
// Save after the handler's return (gin's c.Next()) could add a cookie.
// A Written without WriteHeaderNow is not taken at its word: negroni's
// and martini's report true once WriteHeader is called, and then run
// their Before hooks, where a Save still sets the cookie; once their Size
// counts a byte of the body, the header has gone. chi's
// WrapResponseWriter reports a Status once the header is sent. echo's
// Response (v4's and v5's, found by its Before and After hooks) says so in
// its Committed field alone, which it sets after its Before hooks have run
// and the header has gone; while it is false, the writers under it are
// asked too (a handler may write past echo). echo reports whether one was
// found, for the fix Save names. net/http's own writer cannot say.
func headersSent(w http.ResponseWriter) (sent, echo bool) {
	for range 16 { // a writer whose Unwrap returns itself ends the search
		switch x := w.(type) {
		case interface {
			Written() bool
			WriteHeaderNow()
		}:
			return x.Written(), echo
		case interface {
			Written() bool
			Size() int
		}:
			// negroni's or martini's: the body has begun, so the Before
			// hooks have run and the header is gone.
			return x.Written() && x.Size() > 0, echo
		case interface {
			Status() int
			BytesWritten() int
			Tee(io.Writer)
		}:
			// chi's WrapResponseWriter (middleware.Logger's, among
			// others): Status is 0 until the header is sent.
			return x.Status() != 0, echo
		case interface {
			Before(func())
			After(func())
			Unwrap() http.ResponseWriter
		}:
			committed, ok := echoCommitted(x)
			if committed {
				return true, true
			}
			// Not yet committed (or not echo's): a writer under it that
			// the handler wrote to past echo may still say it has.
			echo = echo || ok
			w = x.Unwrap()
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return false, echo
		}
	}
	return false, echo
}

// echoCommitted reads the Committed field of w, a pointer to a struct
// shaped like echo's Response, without importing echo: ok is false for
// any other shape (a nil pointer, no exported bool field of that name, one
// promoted through a nil embedded pointer), whose Unwrap is then followed.
func echoCommitted(w any) (committed, ok bool) {
	v := reflect.ValueOf(w)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false, false
	}
	f, found := v.Elem().Type().FieldByName("Committed")
	if !found || !f.IsExported() || f.Type.Kind() != reflect.Bool {
		return false, false
	}
	field, err := v.Elem().FieldByIndexErr(f.Index) // an embedded nil pointer fails
	if err != nil {
		return false, false
	}
	return field.Bool(), true
}
