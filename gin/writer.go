package ginsession

import (
	"bufio"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
)

// writer is the gin.ResponseWriter the chain sees. A status is only noted,
// as gin does; whatever sends the header (WriteHeaderNow, Write, Flush,
// Hijack) goes through the Manager's writer, which commits the cookie
// first and then passes the call on to gin's own writer.
type writer struct {
	core http.ResponseWriter // the Manager's committing writer, over gin's
	gin  gin.ResponseWriter
	// probing and probed answer reaches: Size notes that it was called.
	probing, probed bool
}

var _ gin.ResponseWriter = (*writer)(nil)

func (w *writer) Header() http.Header { return w.gin.Header() }

// WriteHeader notes the status; gin sends it with the first write.
func (w *writer) WriteHeader(code int) { w.gin.WriteHeader(code) }

// WriteHeaderNow commits the cookie, then sends the header.
func (w *writer) WriteHeaderNow() {
	if !w.gin.Written() {
		w.core.WriteHeader(w.gin.Status())
		w.gin.WriteHeaderNow()
	}
}

func (w *writer) Write(p []byte) (int, error) { return w.core.Write(p) }

func (w *writer) WriteString(s string) (int, error) {
	// An empty write commits without copying s into a byte slice.
	if _, err := w.core.Write(nil); err != nil {
		return 0, err
	}
	return w.gin.WriteString(s)
}

func (w *writer) Flush() { _ = http.NewResponseController(w.core).Flush() }

func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.core).Hijack()
}

// CloseNotify is part of gin.ResponseWriter.
func (w *writer) CloseNotify() <-chan bool { return w.gin.CloseNotify() }

func (w *writer) Status() int         { return w.gin.Status() }
func (w *writer) Written() bool       { return w.gin.Written() }
func (w *writer) Pusher() http.Pusher { return w.gin.Pusher() }

// Size notes a call that reaches asked for, and writes nothing otherwise.
func (w *writer) Size() int {
	if w.probing {
		w.probed = true
	}
	return w.gin.Size()
}

// Unwrap lets http.ResponseController and Manager.Save reach the Manager's
// writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.core }

// reaches reports whether the chain's writer cw writes through w: a
// middleware that wraps gin's writer embeds the one it wraps, which Size
// passes down to.
func (w *writer) reaches(cw gin.ResponseWriter) bool {
	if cw == gin.ResponseWriter(w) {
		return true
	}
	w.probing, w.probed = true, false
	cw.Size()
	w.probing = false
	return w.probed
}
