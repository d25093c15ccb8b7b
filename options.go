package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure a Manager. The zero value of every field means its
// documented default, and the defaults are the safe choice: a Secure,
// HttpOnly, SameSite=Lax cookie on Path=/ that lives at most 24 hours.
type Options struct {
	// Name is the cookie name, and the name every token is bound to.
	// Default "session". Use "__Host-session" in production: no other host
	// of the site and no plain-HTTP page can set a __Host- cookie, so none
	// can be tossed in front of the session's (README, "Cookie tossing").
	// A "__Host-" name requires Secure, Path "/" and no
	// Domain; a "__Secure-" name requires Secure; an "__Http-" name
	// requires Secure and HttpOnly, and a "__Host-Http-" name both sets of
	// rules; browsers match the prefixes in any case ("__host-"), and so
	// does New. Chunks are named Name, Name.1, Name.2, ...
	Name string
	// Path is the cookie's Path attribute. Default "/". Browsers send the
	// cookie only with requests for paths under it, as they send the path
	// (percent-encoded: New refuses a Path written otherwise, such as
	// "/a b" for "/a%20b", and one no request path matches, with ?, # or
	// a backslash): a request outside it sees no session
	// (logged once per Manager), and a Destroy there expires the cookie
	// all the same.
	Path string
	// Domain is the cookie's Domain attribute, a bare host name such as
	// example.com, without a trailing dot. Default none: host-only. Browsers drop a cookie whose
	// Domain the request's host is outside of: the middleware logs the
	// first such answer at Warn.
	Domain string
	// DisableSecure leaves out the Secure attribute, so that the cookie is
	// also sent over plain HTTP. For local development only. Browsers drop
	// a Secure cookie set in answer to a plain-HTTP request (Chrome and
	// Firefox not from localhost, Safari even from there): the middleware
	// logs the first such answer at Warn.
	DisableSecure bool
	// DisableHttpOnly leaves out the HttpOnly attribute, so that scripts can
	// read the (encrypted) cookie.
	DisableHttpOnly bool
	// SameSite is the cookie's SameSite attribute. Default Lax.
	// SameSiteNoneMode requires Secure. http.SameSiteDefaultMode leaves the
	// attribute out, so each browser applies its own default (not Lax in
	// every one).
	SameSite http.SameSite
	// Partitioned adds the Partitioned attribute (CHIPS). Requires Secure.
	// Chromium keeps 10240 bytes of a site's Partitioned cookies (names
	// and values) in one partition and evicts the oldest past that, so
	// the Manager writes a session's chunks within that sum, whatever
	// MaxChunks: under the default MaxCookieSize, three chunks at most,
	// the third of 2048 bytes. The site's other Partitioned cookies count
	// too, and it cannot see them.
	Partitioned bool

	// MaxAge is the absolute lifetime of a session since it was created or
	// renewed, enforced by the server whatever the client does with the
	// cookie. Default 24h. Shortening it affects existing sessions at once.
	// Tokens carry whole seconds: New refuses a MaxAge, IdleTimeout or
	// MaxLifetime with a fraction of a second, most often a bare number
	// (86400000, express-session's milliseconds) that a Duration counts
	// as nanoseconds. The cookie's Max-Age is what remains of it (with an
	// IdleTimeout, of the idle window, if that ends first), and
	// browsers cut a Max-Age over 400 days to 400 days without a word:
	// with neither IdleTimeout nor BrowserSession, New refuses a MaxAge
	// over 400 days (a user whose session never changes would be signed
	// out then). A longer one needs an IdleTimeout of at most 400 days:
	// each refresh writes the cookie again, so an active user stays
	// signed in for MaxAge.
	MaxAge time.Duration
	// IdleTimeout, when positive, ends a session that has not been
	// refreshed for this long. Default 0: off. See RefreshThreshold. New
	// refuses one as long as MaxAge or longer (than MaxLifetime, if set):
	// every session would reach that limit first, however active. New
	// also refuses one over 400 days (unless BrowserSession): the cookie
	// it writes would ask for more than browsers keep.
	IdleTimeout time.Duration
	// RefreshThreshold is the fraction of IdleTimeout that must remain
	// before a request re-seals the cookie to slide the idle window: with
	// the default 0.5 a cookie is re-issued at most once per half window,
	// not on every response. Must be in (0, 1]; 1 refreshes on every
	// request that finds the session where a re-seal moves its deadline:
	// not in the second its cookie was sealed (tokens carry whole
	// seconds), nor once MaxAge ends the session before the idle window.
	RefreshThreshold float64
	// BrowserSession leaves Max-Age out of the cookie. Browsers drop such a
	// cookie when they close, unless they restore their last session:
	// Chrome, Edge and Firefox set to continue where the user left off keep
	// it across restarts, so on a shared computer the next user is signed
	// in. What ends the session is the server's MaxAge and IdleTimeout,
	// which it still enforces: keep them short where the session must not
	// outlive the visit (an unticked "remember me"). With BrowserSession
	// they may pass 400 days. A session's own Lifetime overrides it.
	BrowserSession bool
	// MaxLifetime bounds every session's MaxAge and IdleTimeout, those of a
	// Lifetime set with Session.SetLifetime included: a "remember me" of 30
	// days needs a MaxLifetime of at least 30 days. Default: MaxAge; New
	// refuses a shorter one. Manager.SetMaxLifetime lowers it while the
	// server runs. It is a ceiling, not a lifetime, so it may pass 400
	// days: the lifetimes themselves are held to what browsers keep.
	MaxLifetime time.Duration

	// MaxCookieSize limits each cookie's name plus value in bytes. Default
	// and most 4096: browsers drop a larger cookie without a word. Spread a
	// larger session over MaxChunks cookies.
	MaxCookieSize int
	// MaxChunks is how many cookies one session may be split across, at
	// most 64. Default 1. Proxies limit headers below what browsers keep:
	// nginx in its default configuration answers 502 to a response whose
	// header passes 4 KB (a session near one full cookie) and 400 to a
	// Cookie line over 8 KB (two cookies); the Manager logs the first
	// response whose cookies pass either at Warn (README, "Header limits
	// in front"). A session written over two or more cookies also expires
	// every chunk above its token, up to MaxChunks, one short Set-Cookie
	// line each (a parallel response may have left one): keep MaxChunks to
	// what sessions need. Lowered, it leaves a session sealed over more
	// chunks unread (its user gets a new one), and the chunks above it in
	// browsers until they expire: the first request that uses the session
	// and carries one is logged once at Warn, with the Retired entry that
	// expires them. New refuses a MaxChunks whose full Set-Cookie
	// lines would pass 256 KiB, the most of a response header Chromium
	// reads (62 cookies of 4096 bytes fit).
	MaxChunks int
	// Retired lists the cookies an earlier configuration wrote under
	// another Name, Path, Domain or Partitioned, or in more chunks than
	// MaxChunks now allows. Browsers keep them until they expire and send
	// them with every request, and one of the session's own name opens:
	// a logout on the new configuration would leave it to sign the user
	// back in. The Manager expires every cookie listed in each response
	// that sets the session's cookies (a login, a change, a refresh, a
	// logout), and in the answer to a request that carries one it does not
	// read. A session opened beside a second cookie of its name is written
	// again under the current attributes. New refuses an entry that is the
	// Manager's own cookie, or lists only cookies an earlier entry lists. A cookie that comes back after
	// such an answer, beside a session cookie that changed since (set for
	// a Path or Domain no entry names, or by another host of the site), is
	// one the lines cannot reach: the Manager answers it no more, and logs
	// that once at Warn. A request that carries a chunk of an entry's Name
	// above every entry's MaxChunks for it (the earlier configuration
	// wrote more) is also logged once at Warn, with the entry to fix.
	// An entry of another Name with Carry (RetiredCookie.Carry) keeps
	// the users of a renamed cookie signed in: a request without a
	// cookie of the Manager's names has its session opened from that
	// one, and written under Name.
	// Keep an entry for MaxAge
	// (MaxLifetime, if sessions set their own) after the change; see
	// README, "Changing cookie settings on a live fleet".
	Retired []RetiredCookie

	// Validate, if set, runs on every session loaded from a valid cookie. An
	// error makes the session invalid: the request gets a fresh session and
	// the cookie is cleared. Use it to revoke sessions, for example by
	// comparing a per-user generation counter stored in the session. In the
	// middleware it runs at the session's first use, inside the handler's
	// call: it must not wait for a lock the handler may hold at that point.
	// It is given a copy of the session to read, which FromContext on the
	// request's context, and Manager.Load of the request, also return;
	// changes to it are dropped, and the first is logged at Warn (of a
	// refused session, a value or Lifetime stored in the copy, which the
	// fresh session does not get: a Delete, Clear or Destroy before the
	// error is not logged). A panic in Validate unwinds as the handler's
	// would, and leaves the session new and empty, for a recovery that
	// still uses it. A panic is not a refusal: the cookie is kept for a
	// later request, unless the recovery stores a value or calls Destroy.
	Validate func(*http.Request, *Session) error
	// ErrorHandler answers a request whose session could not be written,
	// before anything was sent to the client. The error matches ErrTooLarge
	// when the session does not fit. The header map still holds what the
	// handler set (a redirect's Location, say); the handler's own status and
	// body are dropped. The client keeps its previous cookie, and the
	// session can no longer change: a value the ErrorHandler deletes or a
	// flash it adds is dropped, and logged at warn level; redirect to a page
	// that makes the change. Default: log (at error level once a minute, the
	// others at debug) and reply 500 Internal
	// Server Error, without the handler's Location or the session's
	// Set-Cookie lines, and with Cache-Control (and a CDN's own cache
	// field) no-store.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)
	// Logger receives the reason a cookie was refused, at debug level (at
	// Warn for an unknown key id, a clock ahead, or an authentic token this
	// instance cannot read, which are the operator's to fix), the other
	// warnings, and the errors the default
	// ErrorHandler reports. Default slog.Default(), as it is when each line
	// is logged, so that a slog.SetDefault after New applies. It is called with no
	// session locked, so a handler that calls into the session of the
	// context it is given (to tag lines with its ID) may.
	Logger *slog.Logger
	// Now is the clock. Default time.Now. Tests set it to control expiry.
	Now func() time.Time
}

// browserCookieSize is the most of a cookie's name plus value that
// browsers keep (RFC 6265 section 6.1 asks for at least 4096 bytes, and
// Chrome, Firefox and Safari keep no more).
const browserCookieSize = 4096

func (o *Options) normalize() error {
	setDefault(&o.Name, "session")
	setDefault(&o.Path, "/")
	setDefault(&o.SameSite, http.SameSiteLaxMode)
	setDefault(&o.MaxAge, 24*time.Hour)
	setDefault(&o.RefreshThreshold, 0.5)
	setDefault(&o.MaxCookieSize, browserCookieSize)
	setDefault(&o.MaxChunks, 1)
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.Logger, slog.New(currentDefault{}))
	if err := checkDurations(o.MaxAge, o.IdleTimeout, o.MaxLifetime); err != nil {
		return err
	}
	if err := errors.Join(wholeSeconds("MaxAge", o.MaxAge), wholeSeconds("IdleTimeout", o.IdleTimeout),
		wholeSeconds("MaxLifetime", o.MaxLifetime)); err != nil {
		return err
	}
	if !o.BrowserSession {
		if err := checkBrowserMaxAge("", o.MaxAge, o.IdleTimeout); err != nil {
			return err
		}
	}
	if o.MaxLifetime > 0 && o.MaxLifetime < o.MaxAge {
		// The ceiling would cut every session to it, and MaxAge would mean
		// nothing; SetMaxLifetime lowers it on purpose, on a running server.
		return fmt.Errorf("cookiesession: MaxLifetime %v is below MaxAge %v; it bounds the lifetimes sessions may ask for, so set it at least as long", o.MaxLifetime, o.MaxAge)
	}
	if o.MaxLifetime == 0 && o.IdleTimeout > 0 && o.IdleTimeout >= o.MaxAge {
		// Every session would end MaxAge after its creation, however
		// active: the idle window would never be the one to end it. Equal
		// is the express-session port's slip: rolling with cookie.maxAge
		// 24h as IdleTimeout, and MaxAge left at its default of 24h.
		return fmt.Errorf("cookiesession: IdleTimeout %v is not shorter than MaxAge %v, the absolute lifetime, which would end every session first however active it is; raise MaxAge above IdleTimeout, to the longest a session may last (express-session's rolling cookie.maxAge is IdleTimeout here, and it has no absolute limit), or leave IdleTimeout at 0 for MaxAge alone", o.IdleTimeout, o.MaxAge)
	}
	if o.MaxLifetime > 0 && o.IdleTimeout >= o.MaxLifetime {
		return fmt.Errorf("cookiesession: IdleTimeout %v is not shorter than MaxLifetime %v, which bounds every session's MaxAge and would end it first; raise MaxLifetime or shorten IdleTimeout", o.IdleTimeout, o.MaxLifetime)
	}
	if !(o.RefreshThreshold > 0 && o.RefreshThreshold <= 1) { // NaN too
		return fmt.Errorf("cookiesession: RefreshThreshold %v is not in (0, 1], the fraction of IdleTimeout that must remain before a request re-seals the cookie; leave it 0 for the default, 0.5", o.RefreshThreshold)
	}
	if o.MaxCookieSize < 0 {
		return fmt.Errorf("cookiesession: MaxCookieSize %d is negative; leave it 0 for the default, %d bytes", o.MaxCookieSize, browserCookieSize)
	}
	if o.MaxChunks < 0 || o.MaxChunks > maxChunks {
		return fmt.Errorf("cookiesession: MaxChunks %d is not between 1 and %d; leave it 0 for the default, 1, and keep a larger session's data in a database, with its id in the session", o.MaxChunks, maxChunks)
	}
	if o.MaxCookieSize > browserCookieSize {
		return fmt.Errorf("cookiesession: MaxCookieSize %d is over %d, the most browsers keep of a cookie's name and value: they would drop the cookie without a word; raise MaxChunks for a larger session",
			o.MaxCookieSize, browserCookieSize)
	}
	if err := o.checkCookie(); err != nil {
		return err
	}
	// Not asked of Options.Retired: a line expires a cookie only with the
	// Path it was set with, whatever browsers make of it.
	return pathBrowsersMatch(o.Path)
}

// browserMaxAge is the longest Max-Age browsers honour. RFC 6265bis has
// them cut a longer one to a limit of at most 400 days (34560000
// seconds), as Chrome has done since M104: the cookie is kept, for 400
// days from when it was set, and the server is not told.
const browserMaxAge = 400 * 24 * time.Hour

// checkBrowserMaxAge refuses a persistent cookie that would ask browsers
// for more than browserMaxAge. With an idle window, each refresh writes
// the cookie for at most idle. Without one, it is written for maxAge at
// login and again only when the session changes: a user active every day
// would be signed out at day 400. op leads the message ("" for Options).
func checkBrowserMaxAge(op string, maxAge, idle time.Duration) error {
	limit := days(browserMaxAge)
	switch {
	case idle > browserMaxAge:
		return fmt.Errorf("cookiesession: %sIdleTimeout %v (%s) is longer than browsers keep a cookie: each refresh would write a Max-Age past %s, which they cut to %[4]s without a word (RFC 6265bis; Chrome since M104); set an IdleTimeout of at most %[4]s, and a MaxAge as long as the session may last",
			op, idle, days(idle), limit)
	case idle == 0 && maxAge > browserMaxAge:
		return fmt.Errorf("cookiesession: %sMaxAge %v (%s) with no IdleTimeout writes a cookie whose Max-Age passes %s, which browsers cut to %[4]s without a word (RFC 6265bis; Chrome since M104): a user whose session does not change would be signed out then; set an IdleTimeout of at most %[4]s beside this MaxAge (each refresh writes the cookie again, so an active user stays signed in for the whole MaxAge), or a MaxAge of at most %[4]s",
			op, maxAge, days(maxAge), limit)
	}
	return nil
}

// days renders d in days, the unit of the browsers' limit: "730 days",
// or "more than 400 days" for a part of a day more.
func days(d time.Duration) string {
	n := strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
	if d%(24*time.Hour) != 0 {
		return "more than " + n
	}
	return n
}

// wholeSeconds refuses a positive duration with a fraction of a second.
// Tokens carry whole seconds, and such a value is most often a bare number
// meant as milliseconds (express-session's cookie.maxAge) or seconds,
// which a time.Duration counts as nanoseconds: 86400000 is 86.4ms.
func wholeSeconds(field string, d time.Duration) error {
	if d <= 0 || d%time.Second == 0 {
		return nil
	}
	n := int64(d)
	switch {
	case d < time.Second:
		return fmt.Errorf("cookiesession: %s %v is under a second: a time.Duration counts nanoseconds; for %d seconds write time.Duration(%d) * time.Second (%v), for %d milliseconds (express-session's cookie.maxAge) * time.Millisecond (%v)",
			field, d, n, n, d*time.Second, n, d*time.Millisecond)
	case d < time.Minute:
		return fmt.Errorf("cookiesession: %s %v is not a whole number of seconds: a time.Duration counts nanoseconds; for %d milliseconds (express-session's cookie.maxAge) write time.Duration(%d) * time.Millisecond (%v)",
			field, d, n, n, d*time.Millisecond)
	}
	return fmt.Errorf("cookiesession: %s %v is not a whole number of seconds, which tokens carry: round it, %v", field, d, d.Round(time.Second))
}

// hasPrefixFold reports whether name starts with prefix in any case:
// browsers match the __Host-, __Secure-, __Http- and __Host-Http-
// prefixes so (RFC 6265bis), and drop a "__host-" cookie that breaks the
// rules.
func hasPrefixFold(name, prefix string) bool {
	return len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

// pathBrowsersMatch refuses a Path that no request path a browser sends
// can match, since browsers match a cookie's Path against the path as
// they send it: one with ?, # or a backslash, which start the query or
// the fragment, or are sent as a slash; with |, which Chrome sends as %7C
// and Firefox and Safari as it is; with a . or .. segment, which browsers
// resolve away; or written otherwise than browsers send it (see
// browserPath). The cookie would be set, and never come back.
func pathBrowsersMatch(path string) error {
	i := strings.IndexAny(path, `?#\|`)
	switch {
	case i >= 0 && path[i] == '|':
		return fmt.Errorf("cookiesession: Path %q holds '|', which Chrome sends as %%7C and Firefox and Safari as it is: no Path matches both, and the cookie would not come back in one of them; leave it out of the Path", path)
	case i >= 0:
		return fmt.Errorf("cookiesession: Path %q holds %q, which no request path holds (it starts the query or the fragment, or browsers send it as /): the cookie would never come back; give the path alone", path, path[i])
	}
	sent := browserPath(path)
	if strings.Contains(sent+"/", "/./") || strings.Contains(sent+"/", "/../") {
		return fmt.Errorf("cookiesession: Path %q holds a . or .. segment, which browsers resolve before they send the path: the cookie would never come back; write the path without it", path)
	}
	if sent != path {
		return fmt.Errorf("cookiesession: Path %q is sent by browsers as %q, and they match the Path against the path as sent: the cookie would never come back; write %q", path, sent, sent)
	}
	return nil
}

// browserPath returns path, printable ASCII, as browsers send it: with a
// space, ", <, >, ^, `, { and } percent-encoded (the URL Standard's path
// percent-encode set, which Chrome encodes too), an escaped letter,
// digit, -, ., _ or ~ unescaped, as Chrome sends it, and the rest,
// another escape among them, as written.
func browserPath(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if strings.IndexByte(" \"<>^`{}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		if c == '%' && i+2 < len(path) {
			if v, err := strconv.ParseUint(path[i+1:i+3], 16, 8); err == nil && unreservedByte(byte(v)) {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unreservedByte reports whether c is RFC 3986 unreserved: a letter, a
// digit, -, ., _ or ~.
func unreservedByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// setDefault replaces the zero value of *p with def.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// currentDefault is the handler of slog's default logger at each line, the
// Logger of Options that set none. The slog.Default() of New's time, if the
// program calls slog.SetDefault later (a Manager in a package-level
// variable), hands its lines to the new handler through package log, all at
// Info, and one set to Warn drops every warning without a word.
type currentDefault struct{}

func (currentDefault) Enabled(ctx context.Context, level slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, level)
}

func (currentDefault) Handle(ctx context.Context, r slog.Record) error {
	return slog.Default().Handler().Handle(ctx, r)
}

// WithAttrs and WithGroup, which the package does not call but a logger
// derived from Manager.Logger does (an adapter's With, made at init), keep
// following the default: each line applies them to the handler of its
// time (TestManagerLoggerWithFollowsDefault).
func (currentDefault) WithAttrs(attrs []slog.Attr) slog.Handler {
	return derivedDefault{}.WithAttrs(attrs)
}

func (currentDefault) WithGroup(name string) slog.Handler {
	return derivedDefault{}.WithGroup(name)
}

// derivedDefault is currentDefault with the WithAttrs and WithGroup calls
// made on it, in order, replayed on the default handler at each line.
type derivedDefault struct{ steps []deriveStep }

// deriveStep is one WithAttrs (attrs) or WithGroup (group) call.
type deriveStep struct {
	attrs []slog.Attr
	group string
}

func (d derivedDefault) handler() slog.Handler {
	h := slog.Default().Handler()
	for _, st := range d.steps {
		if st.group != "" {
			h = h.WithGroup(st.group)
		} else {
			h = h.WithAttrs(st.attrs)
		}
	}
	return h
}

func (d derivedDefault) Enabled(ctx context.Context, level slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, level)
}

func (d derivedDefault) Handle(ctx context.Context, r slog.Record) error {
	return d.handler().Handle(ctx, r)
}

func (d derivedDefault) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return d
	}
	return derivedDefault{append(slices.Clip(d.steps), deriveStep{attrs: slices.Clone(attrs)})}
}

func (d derivedDefault) WithGroup(name string) slog.Handler {
	if name == "" {
		return d
	}
	return derivedDefault{append(slices.Clip(d.steps), deriveStep{group: name})}
}

// maxAttribute is the longest cookie attribute value browsers honour.
const maxAttribute = 1024

func (o *Options) checkCookie() error {
	if o.Domain != "" {
		if err := (&http.Cookie{Name: "x", Value: "y", Domain: o.Domain}).Valid(); err != nil {
			return fmt.Errorf("cookiesession: Domain %q is not a cookie domain: give a bare host name such as example.com, without scheme, port or path, or leave it empty for a host-only cookie", o.Domain)
		}
		if strings.HasSuffix(o.Domain, ".") {
			// example.com. is another host than example.com: Chrome and
			// Firefox drop the cookie (RFC 6265bis domain-match).
			return fmt.Errorf("cookiesession: Domain %q ends in a dot, and browsers drop such a cookie for a host without one: leave the dot out", o.Domain)
		}
	}
	if err := (&http.Cookie{Name: o.Name, Value: "x"}).Valid(); err != nil {
		// express-session's cookie module takes more (app:sid, sess[id]).
		return fmt.Errorf("cookiesession: Name %q is not a cookie name net/http writes: use letters, digits and !#$%%&'*+-.^_`|~ only (an RFC 6265 token, without the : / @ [ ] express-session's cookie module also takes)", o.Name)
	}
	probe := http.Cookie{Name: o.Name, Value: "x", Path: o.Path, Domain: o.Domain}
	if err := probe.Valid(); err != nil {
		// Name and Domain passed above: a byte of Path that net/http
		// would drop from the line, so the cookie would land elsewhere.
		return fmt.Errorf("cookiesession: Path %q holds a byte a cookie attribute cannot carry (a control character, a semicolon or a non-ASCII byte): percent-encode it, as browsers send the request path (/%%C3%%A9 for /é) (%w)", o.Path, err)
	}
	if !strings.HasPrefix(o.Path, "/") {
		return fmt.Errorf("cookiesession: Path %q must start with /", o.Path)
	}
	if len(o.Path) > maxAttribute || len(o.Domain) > maxAttribute {
		// RFC 6265bis: browsers ignore such an attribute, and the cookie
		// would apply elsewhere than asked.
		return fmt.Errorf("cookiesession: Path or Domain longer than %d bytes, which browsers ignore: shorten it", maxAttribute)
	}
	secure := !o.DisableSecure
	switch {
	case hasPrefixFold(o.Name, "__Host-") && (!secure || o.Path != "/" || o.Domain != ""):
		return fmt.Errorf("cookiesession: browsers drop a cookie named %q unless it is Secure, with Path \"/\" and no Domain; these Options have DisableSecure %t, Path %q, Domain %q",
			o.Name, o.DisableSecure, o.Path, o.Domain)
	case hasPrefixFold(o.Name, "__Secure-") && !secure:
		return fmt.Errorf("cookiesession: browsers drop a cookie named %q unless it is Secure: remove DisableSecure, or the prefix", o.Name)
	case (hasPrefixFold(o.Name, "__Http-") || hasPrefixFold(o.Name, "__Host-Http-")) && (!secure || o.DisableHttpOnly):
		return fmt.Errorf("cookiesession: browsers drop a cookie named %q unless it is Secure and HttpOnly; these Options have DisableSecure %t, DisableHttpOnly %t",
			o.Name, o.DisableSecure, o.DisableHttpOnly)
	case o.SameSite < http.SameSiteDefaultMode || o.SameSite > http.SameSiteNoneMode:
		// net/http writes no attribute for a value it does not know.
		return fmt.Errorf("cookiesession: SameSite %d is none of net/http's SameSite modes", o.SameSite)
	case o.SameSite == http.SameSiteNoneMode && !secure:
		return errors.New("cookiesession: browsers drop a SameSite=None cookie that is not Secure: remove DisableSecure, or choose another SameSite")
	case o.Partitioned && !secure:
		return errors.New("cookiesession: browsers drop a Partitioned cookie that is not Secure: remove DisableSecure, or Partitioned")
	}
	return nil
}
