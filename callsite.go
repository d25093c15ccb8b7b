package cookiesession

import (
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// callSite is the place in the application's code that made a call into
// the package, for a warning about a mistake one handler makes (a Save
// after the handler returned, a session first read after the response):
// logged once per call site rather than once per Manager, the first
// handler's mistake does not hide the next one's, and the line says where
// to look. Call sites are as many as the application's lines of code, so
// they need no bound beyond causes'. The zero callSite is an unknown one.
type callSite struct {
	function, file string // from the binary's tables: no request's memory
	line           int
}

// key is what a causes remembers of c: its line in the source. The
// function is left out: the compiler names a closure anew in each place
// it inlines the function around it, and those are one line's mistake.
func (c callSite) key() sourceLine { return sourceLine{file: c.file, line: c.line} }

// sourceLine is a line in the source, and for a warning about a response
// the route it answered (Request.Pattern, or ""): one line, such as a
// shared layout's Execute, may write many routes' pages.
type sourceLine struct {
	file  string
	line  int
	route string
}

func (l sourceLine) detach() sourceLine {
	l.route = strings.Clone(l.route)
	return l
}

// String reads "main.profile (/src/app/main.go:42)", as a panic's trace
// does, or "unknown" if the stack held no frame outside the package.
func (c callSite) String() string {
	if c.function == "" {
		return "unknown"
	}
	return c.function + " (" + c.file + ":" + strconv.Itoa(c.line) + ")"
}

// callerOutside returns the innermost frame of the calling goroutine's
// stack that is none of the package's own code (see inside): the line of
// the application, or of a library (a WebSocket upgrader), that called in.
// Only a warning's path calls it, and callSites samples the paths that a
// request may take every time: the walk costs about a microsecond, most
// of it runtime.Callers', even once sites knows the frames. The stack is
// read 32 frames at a time, up to maxDepth: a template's read is 15
// frames below its Execute, and 3 more for each {{with}}, {{if}},
// {{range}} or {{template}} it is in: a page's partial in a layout is past
// the first 32.
func callerOutside() callSite {
	var pcs [32]uintptr
	for skip := 2; skip < maxDepth; skip += len(pcs) {
		n := runtime.Callers(skip, pcs[:])
		for _, pc := range pcs[:n] {
			if c := sites.of(pc); c.function != "" {
				return c
			}
		}
		if n < len(pcs) {
			break
		}
	}
	return callSite{}
}

// callerAttr is the caller attribute of a line logged at level, for a
// mistake that may be made on every request of a route and is logged at
// Warn once a minute: a line rated down to Debug goes without, since the
// walk would cost each such request a microsecond, and the Logger, whose
// Enabled may call into the session, cannot be asked under its lock
// whether it keeps Debug.
func callerAttr(level slog.Level) slog.Attr {
	if level <= slog.LevelDebug {
		return slog.Attr{} // slog's handlers drop it
	}
	return slog.String("caller", callerOutside().String())
}

// maxDepth bounds the frames callerOutside reads, each chunk from the top
// of the stack again: past it, a call site is unknown, and a template that
// includes itself (a tree of menus) costs no more.
const maxDepth = 256

// sites remembers, for each return address callerOutside met, the call
// site it stands for, or the zero one for the package's own code: the
// binary's line tables cost several times the walk to read. The
// addresses on the paths that warn are the binary's, and few; past
// maxSites of them (a walk through the application's own recursion, say)
// the rest are read each time.
var sites siteMemo

const maxSites = 4096

type siteMemo struct {
	mu sync.RWMutex
	m  map[uintptr]callSite
}

func (sm *siteMemo) of(pc uintptr) callSite {
	sm.mu.RLock()
	c, ok := sm.m[pc]
	sm.mu.RUnlock()
	if ok {
		return c
	}
	frames := runtime.CallersFrames([]uintptr{pc})
	for more := true; more; {
		var f runtime.Frame
		f, more = frames.Next()
		if f.Function != "" && !inside(f.Function) {
			c = callSite{f.Function, f.File, f.Line}
			break
		}
	}
	sm.mu.Lock()
	if sm.m == nil {
		sm.m = make(map[uintptr]callSite)
	}
	if len(sm.m) < maxSites {
		sm.m[pc] = c
	}
	sm.mu.Unlock()
	return c
}

// callSites is causes keyed by the line of code that calls in, for a
// warning whose every call site may be another handler's mistake. Such a
// mistake may be made on every request of a route (an access log that
// reads the session after the body, FromContext under stacked Managers),
// and finding the call costs about a microsecond: the first
// allCallsLooked occurrences are looked up, and then any that comes
// walkGap or more after the last one looked up (a walk costs at most 1%
// of a core, however often the mistake is made), and one in 64 (one in
// 1<<sampledBits) of the others, so that a call site first reached later
// is logged at once unless occurrences crowd, and then after some 64 of
// its own, and a route that repeats a known one pays a clock read. The
// occurrences sampled are picked by a hash of their count, not every
// 64th: a request that makes two such mistakes would give one of them
// only odd counts. The zero value is ready to use.
type callSites struct {
	causes[sourceLine]
	calls    atomic.Uint64
	lastWalk atomic.Int64 // Unix nanoseconds, by the Manager's clock
}

const (
	allCallsLooked = 1024
	sampledBits    = 6
	walkGap        = 100 * time.Microsecond
)

// level reports whether to log this occurrence, at which level (as causes
// does), and its call site.
func (cs *callSites) level(level slog.Level, now func() time.Time) (callSite, slog.Level, bool) {
	return cs.levelOn("", level, now)
}

// levelOn is level for a call site on route: each route of one call site
// is logged as a site of its own.
func (cs *callSites) levelOn(route string, level slog.Level, now func() time.Time) (callSite, slog.Level, bool) {
	// Fibonacci hashing: the top bits of n times 2⁶⁴/φ spread any
	// arithmetic progression of counts evenly.
	if n := cs.calls.Add(1); n > allCallsLooked && (n*0x9e3779b97f4a7c15)>>(64-sampledBits) != 0 && !cs.walkDue(now()) {
		return callSite{}, 0, false
	}
	c := callerOutside()
	key := c.key()
	key.route, _ = logCut(route)
	level, ok := cs.causes.level(key, level, now)
	return c, level, ok
}

// walkDue reports whether walkGap has passed since the last walk, and if
// so takes this one as the last.
func (cs *callSites) walkDue(now time.Time) bool {
	last, at := cs.lastWalk.Load(), now.UnixNano()
	return at-last >= int64(walkGap) && cs.lastWalk.CompareAndSwap(last, at)
}

// modulePath is the package's import path: its adapters' paths are one
// element longer.
var modulePath = reflect.TypeFor[Manager]().PkgPath()

// frameworks are the import paths, with the packages below them, of the
// frameworks the adapters serve. Their code between the application and
// the package works on the application's behalf: gin's c.HTML and fiber's
// c.Render execute a template that calls a getter, echo v5's
// TemplateRenderer one that c.Render asked for. The line to fix is the
// application's call into the framework. None of them calls a Session
// method of its own accord, and gin's and echo's writers drop a second
// WriteHeader. chi is not one: its Recoverer and Timeout write a status
// of their own, which is theirs to name.
var frameworks = [...]string{
	"github.com/gin-gonic/gin",
	"github.com/labstack/echo/v4", "github.com/labstack/echo/v5",
	"github.com/gofiber/fiber/v2", "github.com/gofiber/fiber/v3", "github.com/gofiber/template",
	"github.com/valyala/fasthttp", // fiber's server: the bottom of its request's goroutine
}

// inside reports whether function, a name as runtime.Frame gives it
// ("path/to/pkg.(*T).Method.func1", "pkg.F[...]"), is passed over on the
// way to the code that called in: the package's, an adapter's (see
// adapters; not an example's, nor a test's), net/http's on the
// application's behalf (http.Error, a ResponseController), io's, fmt's,
// bufio's and encoding/json's writing for it, reflect's and
// the templates' calling a Session method for a template, a framework's
// (see frameworks), a writer wrapper's Hijack or WriteHeader passing the
// call on (chi's middleware.WrapResponseWriter's Hijack, its Compress
// writer's WriteHeader), and the runtime's (the bottom of a goroutine the
// package started: no call site).
func inside(function string) bool {
	name, _, _ := strings.Cut(function, "[") // a generic's type arguments hold paths too
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return false
	}
	pkg := name[:slash+1+dot]
	switch pkg {
	case modulePath, "net/http", "reflect", "text/template", "html/template", "runtime":
		return true
	case "io", "fmt", "bufio", "encoding/json":
		// A write passed on for the application (io.WriteString,
		// fmt.Fprintf, a json.Encoder's Encode) commits the response: the
		// line is the caller's.
		return true
	}
	if strings.HasSuffix(name, ".Hijack") || strings.HasSuffix(name, ".WriteHeader") {
		return true
	}
	for _, f := range frameworks {
		if below, ok := strings.CutPrefix(pkg, f); ok && (below == "" || below[0] == '/') {
			return true
		}
	}
	below, ok := strings.CutPrefix(pkg, modulePath+"/")
	return ok && slices.Contains(adapters[:], below)
}

// adapters are the paths of the adapters' packages below the module's
// root. The other packages there are an application's as much as a
// user's: e2e's tests, the benchmarks.
var adapters = [...]string{"gin", "echo", "echo5", "fiber"}
