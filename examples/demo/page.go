package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/seed-ff2808ae/cookiesession"
)

// maxCookie is the size browsers keep of one cookie's name plus value, and
// the Manager's default MaxCookieSize.
const maxCookie = 4096

// pageErrors are the messages the page shows for ?error=; the query never
// reaches the page as text.
var pageErrors = map[string]string{
	"too-large":    "That does not fit in the session cookie. Nothing was changed: your previous session is intact.",
	"bad-username": "Enter a user name of 1 to 64 characters.",
	"bad-form":     "The form could not be read.",
}

// pageData is everything the template shows.
type pageData struct {
	User          string
	Visits        int
	Flashes       []string
	Error         string
	Note          string // the note the session holds
	Draft         string // the text in the note form: the note, or what was typed
	CookieLost    bool   // a value was just stored, yet no cookie came back
	CookieRefused bool   // the browser sent a session cookie the server could not open
	Remember      string // how long "remember me" keeps a login, in words
	Forget        string // when the server ends a login without it, in words
	Live          bool   // the request brought a session the server opened

	// What the browser sent: the session's cookies as it holds them.
	Cookies              []sentCookie
	CookieBytes          int
	MaxCookie, MaxChunks int

	// What the server decrypted from them.
	ID, Created, Expires, KeyID string
	Values                      []shownValue

	// This instance's key ring and how many tokens each key opened.
	Keys     []keyRow
	Resealed uint64
	Refused  uint64

	SecureOverPlainHTTP bool
}

// sentCookie is one session cookie of the request, as the browser sent it.
type sentCookie struct {
	Name, Value string
	Size        int // name + value, what the 4096-byte limit counts
}

// shownValue is one decrypted value: its key, a short rendering, and the
// Go type it came back as.
type shownValue struct{ Key, Value, Type string }

// keyRow is one key id the instance holds or has opened tokens with.
type keyRow struct {
	ID, Role string
	Opens    uint64
}

// view reads the page from the request and its session, changing nothing:
// flashes stay, the visit is not yet counted.
func (a *app) view(r *http.Request, s *cookiesession.Session) pageData {
	p := pageData{
		User:                s.GetString("user"),
		Visits:              s.GetInt("visits"),
		Note:                s.GetString("note"),
		Live:                !s.IsNew(),
		Cookies:             a.received(r),
		MaxCookie:           maxCookie,
		MaxChunks:           max(a.cfg.MaxChunks, 1),
		SecureOverPlainHTTP: !a.cfg.Insecure && r.TLS == nil,
		Remember:            inWords(a.cfg.RememberFor),
		Forget:              forgetIn(a.cfg),
	}
	p.Draft = p.Note
	for _, c := range p.Cookies {
		p.CookieBytes += c.Size
	}
	p.CookieRefused = len(p.Cookies) > 0 && !p.Live
	if p.Live {
		p.ID = s.ID()
		p.Created = s.CreatedAt().UTC().Format(time.RFC3339)
		p.Expires = s.ExpiresAt().UTC().Format(time.RFC3339)
		p.KeyID = cookiesession.FormatKeyID(s.KeyID())
		p.Values = decrypted(s)
	}
	// After the session: its cookie is opened at first use, and this
	// request's open is then counted.
	p.Keys, p.Resealed, p.Refused = a.keyRows()
	return p
}

// inWords says a duration in whole days when it is some, as a Duration
// otherwise.
func inWords(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// forgetIn says when the server ends a login without "remember me": its
// cookie has no Max-Age, and a browser that restores its last session
// keeps it, so the Manager's lifetimes are what end it.
func forgetIn(c config) string {
	maxAge := inWords(cmp.Or(c.MaxAge, 24*time.Hour)) // a zero MaxAge is the library's 24h
	if c.IdleTimeout > 0 {
		return maxAge + ", or " + inWords(c.IdleTimeout) + " idle"
	}
	return maxAge
}

// received returns the session's cookies the request carried, in chunk
// order: the server sees only what the browser sends.
func (a *app) received(r *http.Request) []sentCookie {
	var out []sentCookie
	for _, name := range a.mgr.CookieNames() {
		c, err := r.Cookie(name)
		if err != nil {
			break
		}
		out = append(out, sentCookie{Name: c.Name, Value: c.Value, Size: len(c.Name) + len(c.Value)})
	}
	return out
}

// decrypted lists the session's values with the Go type of each.
func decrypted(s *cookiesession.Session) []shownValue {
	var out []shownValue
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		out = append(out, shownValue{Key: k, Value: show(v), Type: fmt.Sprintf("%T", v)})
	}
	return out
}

// shownMax bounds how much of one value the page shows.
const shownMax = 80

// show renders a value briefly: strings quoted, JSON as its text, and
// anything longer than shownMax cut with an ellipsis.
func show(v any) string {
	var text string
	switch v := v.(type) {
	case string:
		text = strconv.Quote(v)
	case json.RawMessage:
		text = string(v)
	case []string:
		text = fmt.Sprintf("%q", v)
	default:
		text = fmt.Sprint(v)
	}
	if len(text) <= shownMax {
		return text
	}
	cut := shownMax
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// keyRows lists the ring's keys with the tokens each opened since start,
// then the ids no longer in the ring that opened some: during a rotation
// an operator watches the old key's count stop growing.
func (a *app) keyRows() (rows []keyRow, resealed, refused uint64) {
	m := a.mgr.Metrics()
	for _, k := range m.Keys {
		id := cookiesession.FormatKeyID(k.ID)
		role := "open-only"
		switch {
		case k.Primary:
			role = "primary"
		case !k.PromoteAt.IsZero():
			role = "primary from " + k.PromoteAt.UTC().Format(time.RFC3339)
		}
		rows = append(rows, keyRow{ID: id, Role: role, Opens: m.Opened[id]})
		delete(m.Opened, id)
	}
	gone := make([]string, 0, len(m.Opened))
	for id := range m.Opened {
		gone = append(gone, id)
	}
	slices.Sort(gone)
	for _, id := range gone {
		rows = append(rows, keyRow{ID: id, Role: "removed", Opens: m.Opened[id]})
	}
	for _, n := range m.Refused {
		refused += n
	}
	return rows, m.Resealed, refused
}

// render writes the page with status.
func (a *app) render(w http.ResponseWriter, status int, p pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		a.log.Error("rendering the page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cookiesession demo</title>
<script>
// ?stored and ?error are for the view a form's redirect leads to: drop them
// from the address, so that a reload or Back (after a logout, say) does not
// show the error again, nor the hint that the cookie did not come back.
if (location.search) history.replaceState(history.state, "", location.pathname + location.hash);
</script>
<style>
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.3fr); gap: 2rem; }
@media (max-width: 50rem) { .columns { grid-template-columns: minmax(0, 1fr); } }
.flash { background: #e6f4ea; padding: .5rem; }
.error { background: #fce8e6; padding: .5rem; }
.idea { background: #e8f0fe; padding: .5rem .75rem; font-size: 1.1em; }
.panel { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .2rem .4rem; border-bottom: 1px solid #eee; }
td.size { white-space: nowrap; }
td.value code { display: block; max-height: 5.5em; overflow: auto; word-break: break-all; font-size: .8em; }
dt { font-weight: bold; } dd { margin-left: 1rem; } textarea { width: 100%; }
code, .mono { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>cookiesession demo</h1>
<p class="idea" id="no-store">There is no session store on this server: everything your session holds
lives in the encrypted cookie your browser sends, and the server keeps nothing between requests.</p>
{{range .Flashes}}<p class="flash" id="flash">{{.}}</p>
{{end}}{{with .Error}}<p class="error" id="error">{{.}}</p>
{{end}}
<div class="columns">
<div>
{{if .User}}
<p>Signed in as <strong id="user">{{.User}}</strong>.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
{{else}}
<p id="anonymous">Not signed in.</p>
<form method="post" action="/login">
<p><label>User name <input name="username" maxlength="64" required></label></p>
<p><label><input type="checkbox" name="remember" value="1"> Remember me for {{.Remember}}</label>
(unchecked, the cookie has no expiry date: browsers drop it when they close, unless they
restore their last session, and the server ends the session after {{.Forget}})</p>
<button type="submit">Log in</button>
</form>
{{end}}
<p>Visits in this session: <span id="visits">{{.Visits}}</span></p>

<h2>Note</h2>
<form method="post" action="/note">
<textarea name="note" rows="6">{{.Draft}}</textarea>
<p>Stored: <span id="note-length">{{len .Note}}</span> bytes. The session may span
{{.MaxChunks}} cookie(s) of at most {{.MaxCookie}} bytes each.</p>
<button type="submit">Save note</button>
</form>
<p>JSON: <a href="/api/session">/api/session</a> · counters: <a href="/debug/vars">/debug/vars</a></p>
</div>

<div>
<section class="panel" id="cookie-panel">
<h2>In your browser</h2>
{{if .Cookies}}
<p>Your browser sent <span id="cookie-size">{{.CookieBytes}} bytes in {{len .Cookies}} cookie(s)</span>
with this request, exactly as it holds them. Each is sealed with XChaCha20-Poly1305: the browser
can neither read nor change it.</p>
<table>
<tr><th>Cookie</th><th>Size</th><th>Value</th></tr>
{{range .Cookies}}<tr class="cookie"><td class="name mono">{{.Name}}</td>
<td class="size">{{.Size}} of {{$.MaxCookie}} bytes</td>
<td class="value"><code>{{.Value}}</code></td></tr>
{{end}}</table>
{{else}}
<p id="no-cookie">Your browser sent no session cookie.</p>
{{end}}
</section>

<section class="panel" id="decrypted">
<h2>On the server, decrypted</h2>
{{if .Live}}
<dl>
<dt>Session ID</dt><dd class="mono" id="session-id">{{.ID}}</dd>
<dt>Created</dt><dd id="created">{{.Created}}</dd>
<dt>Expires</dt><dd id="expires">{{.Expires}}</dd>
<dt>Sealed with key</dt><dd class="mono" id="key-id">{{.KeyID}}</dd>
</dl>
<table id="values">
<tr><th>Key</th><th>Value</th><th>Go type</th></tr>
{{range .Values}}<tr class="entry"><td class="key mono">{{.Key}}</td><td class="shown mono">{{.Value}}</td>
<td class="type mono">{{.Type}}</td></tr>
{{end}}</table>
<p>This view counts a visit, so the response carries a new cookie.</p>
{{else if .CookieRefused}}
<p id="refused-cookie">No session: the server could not open the cookie your browser sent. It
expired, was changed, or was sealed with a key this instance does not hold (after a restart with
an ephemeral key ring, say). The server log says which: at debug level (<code>-debug</code>), or
at warning level for an unknown key. Storing something starts a new session.</p>
{{else}}
<p id="no-session">No session. None is sent until something is stored.</p>
{{if .CookieLost}}<p id="cookie-lost">You just stored something, yet your browser sent no session cookie back.
{{if .SecureOverPlainHTTP}}It refused the Secure cookie over plain HTTP (Chrome and Firefox keep
it on localhost and 127.0.0.1; Safari may not): restart the demo with <code>-insecure</code>.
{{else}}Does it block cookies for this site?{{end}}</p>{{end}}
{{end}}
</section>

<section class="panel" id="ring">
<h2>Keys on this instance</h2>
<table>
<tr><th>Key id</th><th>Role</th><th>Tokens opened</th></tr>
{{range .Keys}}<tr class="ring-key"><td class="key-id mono">{{.ID}}</td><td class="role">{{.Role}}</td>
<td class="opens">{{.Opens}}</td></tr>
{{end}}</table>
<p>Since this process started: <span id="resealed">{{.Resealed}}</span> tokens re-sealed only to move them
from an old key to the primary (a GET of <a href="/api/session">/api/session</a> does that; each view of
this page changes the session, which moves its token too, uncounted), <span id="refused">{{.Refused}}</span> refused. An old key whose count stops growing is idle; remove it only {{.Remember}} (the longest
login) after it last sealed: a remembered login not used since still needs it.</p>
</section>
</div>
</div>
</body>
</html>
`))
