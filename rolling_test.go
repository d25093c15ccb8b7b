package cookiesession_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-ff2808ae/cookiesession"
)

// A rolling deployment of a configuration change: an old and a new
// Manager over one key ring and one fake clock serve one browser (a
// net/http cookie jar over TLS, under the name app.example.com) in turn,
// as a load balancer without stickiness does, then the new one alone.

// rollingApp answers by the last element of the path: login (user, and
// pad bytes of filler), whoami, add (item), logout; each answers
// "user/cart".
func rollingApp(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	if err := liveChange(s, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(s.GetString("user") + "/" + s.GetString("cart")))
}

// rollingStep is one request: the side that serves it (O old, N new) and
// the path under /app/ with its query.
type rollingStep struct {
	side   byte
	target string
}

// rollingScript alternates the sides while alice signs in on the old
// one, adds to her cart on both and reads it on both, then serves with
// the new side alone, to her logout.
var rollingScript = []rollingStep{
	{'O', "login?user=alice"}, {'N', "whoami"}, {'O', "whoami"}, {'N', "add?item=a"},
	{'O', "whoami"}, {'O', "add?item=b"}, {'N', "whoami"}, {'O', "whoami"},
	{'N', "whoami"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"},
}

// nameScript signs alice in on each side in turn: through a Name change,
// each side reads only its own cookie.
var nameScript = []rollingStep{
	{'O', "login?user=alice"}, {'N', "whoami"}, {'N', "login?user=alice"}, {'O', "whoami"},
	{'O', "login?user=alice"}, {'N', "whoami"}, {'O', "whoami"}, {'N', "whoami"},
	{'N', "logout"}, {'N', "whoami"},
}

// maxAgeScript, ten minutes a step, has the old side write last 30
// minutes after the login, then the new side alone read on past the old
// MaxAge of an hour.
var maxAgeScript = []rollingStep{
	{'O', "login?user=alice"}, {'N', "whoami"}, {'O', "whoami"}, {'O', "add?item=a"},
	{'N', "whoami"}, {'N', "whoami"}, {'N', "whoami"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"},
}

// setCookieTrace renders a response's Set-Cookie lines: the name, "-"
// before it for a line that expires the cookie, "@" and the Path or
// Domain when not the default, "+P" when Partitioned.
func setCookieTrace(t *testing.T, h http.Header) string {
	t.Helper()
	var out []string
	for _, c := range parseSetCookies(t, h) {
		s := c.Name
		if c.MaxAge < 0 {
			s = "-" + s
		}
		if c.Path != "/" {
			s += "@" + c.Path
		}
		if c.Domain != "" {
			s += "@" + c.Domain
		}
		if c.Partitioned {
			s += "+P"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// warns returns the Warn lines in log, each cut to its msg.
func warns(log *syncBuffer) []string {
	var out []string
	for _, line := range log.lines("level=WARN") {
		msg := line
		if i := strings.Index(msg, "msg="); i >= 0 {
			msg = msg[i+len("msg="):]
		}
		out = append(out, msg)
	}
	return out
}

type rollingRow struct {
	name     string
	old, new cookiesession.Options
	script   []rollingStep // default rollingScript
	step     time.Duration // the clock's advance before each request; default a minute
	setup    func(oldM, newM *cookiesession.Manager)
	want     []string // per request: side, body, Set-Cookie trace
	left     []string // cookies the jar still holds at the end
	oldWarn  []string // substrings of the old side's Warn lines, in order
	newWarn  []string
}

func runRolling(t *testing.T, tc rollingRow) {
	f := newFixture(t, tc.old)
	var oldLog, newLog syncBuffer
	tc.old.Logger, tc.new.Logger = debugLogger(&oldLog), debugLogger(&newLog)
	oldM, newM := f.manager(tc.old), f.manager(tc.new)
	if tc.setup != nil {
		tc.setup(oldM, newM)
	}
	var serving atomic.Pointer[cookiesession.Manager]
	lf := &liveFleet{f: f}
	lf.srv = newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serving.Load().Handler(http.HandlerFunc(rollingApp)).ServeHTTP(w, r)
	}))
	c, base := lf.browser(t, "app.example.com")
	script, step := tc.script, tc.step
	if script == nil {
		script = rollingScript
	}
	if step == 0 {
		step = time.Minute
	}
	var got []string
	for _, st := range script {
		f.clock.Advance(step)
		serving.Store(map[byte]*cookiesession.Manager{'O': oldM, 'N': newM}[st.side])
		resp, body := fetch(t, c, base+"/app/"+st.target)
		if resp.StatusCode != http.StatusOK {
			body = strconv.Itoa(resp.StatusCode)
		}
		got = append(got, fmt.Sprintf("%c %s %s", st.side, strings.TrimSpace(body), setCookieTrace(t, resp.Header)))
	}
	if diff := cmp.Diff(tc.want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s\ngot:\n%#v", diff, got)
	}
	if left := jarNames(t, c, base+"/app/x"); !slices.Equal(left, tc.left) {
		t.Errorf("the browser holds %q at the end, want %q", left, tc.left)
	}
	checkWarns(t, "old", &oldLog, tc.oldWarn)
	checkWarns(t, "new", &newLog, tc.newWarn)
}

// checkWarns checks that log holds one Warn line for each of want, in
// order, each containing every "|"-separated part of it, and no other.
func checkWarns(t *testing.T, side string, log *syncBuffer, want []string) {
	t.Helper()
	got := warns(log)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		for part := range strings.SplitSeq(want[i], "|") {
			ok = ok && strings.Contains(got[i], part)
		}
	}
	if !ok {
		t.Errorf("the %s side logged at Warn:\n%s\nwant one line with each of %q", side, strings.Join(got, "\n"), want)
	}
}

// longerWarn is the line of a session that a longer MaxAge or
// MaxLifetime sealed, refused here and kept for the instance that did.
const longerWarn = "session cookie refused|since creation|another instance seals with a longer MaxAge or MaxLifetime|the cookie is kept|at most the longer limit after the rollout"

// cutWarn is the line of a session whose token runs past the end this
// Manager's MaxAge or MaxLifetime gives it, which its writes cut. Both
// say when a lowered limit's line stops: not with the rollout, since the
// sessions the others sealed before they took it keep their deadline.
const cutWarn = "runs past the end this Manager's MaxAge or MaxLifetime gives it|another instance, with a longer MaxAge or MaxLifetime|roll out a raised one to every instance before|at most the longer limit after the rollout"

// shadowWarn is warnShadowed's line, with the fix for a Path or Domain
// changed.
const shadowWarn = "two cookies of the session's name|list it in Options.Retired"

// shadowWarnRetired is the same line on a Manager whose Options.Retired
// lists the earlier cookie already: the fix says it ends with the rollout.
const shadowWarnRetired = "two cookies of the session's name|this ends with the rollout"

func TestRollingDeployment(t *testing.T) {
	for _, tc := range []rollingRow{
		// Each side reads only its own cookie: signed in once on each. The
		// old cookie stays in the browser, and nobody can tell.
		{name: "Name", old: cookiesession.Options{}, new: cookiesession.Options{Name: "sid"}, script: nameScript,
			want: []string{"O alice/ session", "N / ", "N alice/ sid", "O alice/ ", "O alice/ session", "N alice/ ", "O alice/ ", "N alice/ ", "N / -sid", "N / "},
			left: []string{"session"},
		},
		// The new side expires the old side's cookie, even on a read: the user
		// is signed out on the old side after each visit to the new one (a
		// flip-flop), logged once; README: ship Retired in a later deployment.
		{name: "Name, retired", old: cookiesession.Options{}, new: cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Name: "session"}}}, script: nameScript,
			want:    []string{"O alice/ session", "N / -session", "N alice/ -session,sid", "O / ", "O alice/ session", "N alice/ -session", "O / ", "N alice/ ", "N / -sid,-session", "N / "},
			newWarn: []string{"began after this Manager started"},
		},
		// Carry: the new side carries the old side's session (alice stays
		// signed in there), and expires its cookie, so the old side, which
		// does not read sid, sees her signed out after each visit to the
		// new side; what she does there (b) is lost at the next new
		// request, whose own cookie wins.
		{name: "Name, carried", old: cookiesession.Options{}, new: cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}},
			want:    []string{"O alice/ session", "N alice/ -session,sid", "O / ", "N alice/a -session,sid", "O / ", "O /b session", "N alice/a -session", "O / ", "N alice/a ", "N alice/a ", "N / -sid,-session", "N / "},
			newWarn: []string{"lists with Carry|another instance writes it|cookie=session|give them Retired|MaxChunks: 1, Carry: true}}"},
		},
		// Each side carries the other's cookie (the old one deployed first
		// with an entry for the new Name): signed in throughout, nothing
		// lost; each request that changes sides writes the cookie again.
		{name: "Name, carried both ways", old: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "sid", Carry: true}}}, new: cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}},
			want:    []string{"O alice/ -sid,session", "N alice/ -session,sid", "O alice/ -sid,session", "N alice/a -session,sid", "O alice/a -sid,session", "O alice/ab -sid,session", "N alice/ab -session,sid", "O alice/ab -sid,session", "N alice/ab -session,sid", "N alice/ab ", "N / -sid,-session", "N / "},
			oldWarn: []string{"lists with Carry|cookie=sid"},
			newWarn: []string{"lists with Carry|cookie=session"},
		},
		// Without Retired, the old cookie hides changes and outlives the
		// logout, which leaves alice signed in; warnShadowed names Retired.
		{name: "Path / to /app", old: cookiesession.Options{}, new: cookiesession.Options{Path: "/app"},
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session@/app", "O alice/a ", "O alice/ab session", "N alice/a ", "O alice/a ", "N alice/a ", "N alice/a ", "N / -session@/app", "N alice/ab "},
			left:    []string{"session"},
			oldWarn: []string{shadowWarn},
			newWarn: []string{shadowWarn},
		},
		// Signed in throughout; the old side's change (b) is lost at the next
		// new request, whose cookie at /app the browser sends first.
		{name: "Path / to /app, retired", old: cookiesession.Options{}, new: cookiesession.Options{Path: "/app", Retired: []cookiesession.RetiredCookie{{}}},
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a -session,session@/app", "O alice/a ", "O alice/ab session", "N alice/a -session,session@/app", "O alice/a ", "N alice/a ", "N alice/a ", "N / -session@/app,-session", "N / "},
			newWarn: []string{shadowWarnRetired},
		},
		// The old side reads its /app cookie first and loses the new side's
		// change (a); the logout leaves the old cookie, which signs alice in.
		{name: "Path /app to /", old: cookiesession.Options{Path: "/app"}, new: cookiesession.Options{},
			want:    []string{"O alice/ session@/app", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/ ", "O alice/b session@/app", "N alice/b ", "O alice/b ", "N alice/b ", "N alice/b ", "N / -session", "N alice/b "},
			left:    []string{"session"},
			oldWarn: []string{shadowWarn},
			newWarn: []string{shadowWarn},
		},
		// Nothing lost.
		{name: "Path /app to /, retired", old: cookiesession.Options{Path: "/app"}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/app"}}},
			want:    []string{"O alice/ session@/app", "N alice/ ", "O alice/ ", "N alice/a -session@/app,session", "O alice/a ", "O alice/ab session@/app", "N alice/ab -session@/app,session", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session,-session@/app", "N / "},
			newWarn: []string{shadowWarnRetired},
		},
		// As Path /app to /: a change lost, the logout undone, warned.
		{name: "Domain added", old: cookiesession.Options{}, new: cookiesession.Options{Domain: "example.com"},
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session@example.com", "O alice/ ", "O alice/b session", "N alice/b ", "O alice/b ", "N alice/b ", "N alice/b ", "N / -session@example.com", "N alice/b "},
			left:    []string{"session"},
			oldWarn: []string{shadowWarn},
			newWarn: []string{shadowWarn},
		},
		// As Path / to /app, retired: the old side's change (b) is lost.
		{name: "Domain added, retired", old: cookiesession.Options{}, new: cookiesession.Options{Domain: "example.com", Retired: []cookiesession.RetiredCookie{{}}},
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a -session,session@example.com", "O alice/a ", "O alice/ab session", "N alice/a -session,session@example.com", "O alice/a ", "N alice/a ", "N alice/a ", "N / -session@example.com,-session", "N / "},
			newWarn: []string{shadowWarnRetired},
		},
		// As Domain added.
		{name: "Domain removed", old: cookiesession.Options{Domain: "example.com"}, new: cookiesession.Options{},
			want:    []string{"O alice/ session@example.com", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/ ", "O alice/b session@example.com", "N alice/b ", "O alice/b ", "N alice/b ", "N alice/b ", "N / -session", "N alice/b "},
			left:    []string{"session"},
			oldWarn: []string{shadowWarn},
			newWarn: []string{shadowWarn},
		},
		// As Domain added, retired.
		{name: "Domain removed, retired", old: cookiesession.Options{Domain: "example.com"}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Domain: "example.com"}}},
			want:    []string{"O alice/ session@example.com", "N alice/ ", "O alice/ ", "N alice/a -session@example.com,session", "O alice/a ", "O alice/ab session@example.com", "N alice/a -session@example.com,session", "O alice/a ", "N alice/a ", "N alice/a ", "N / -session,-session@example.com", "N / "},
			newWarn: []string{shadowWarnRetired},
		},
		// A session over two cookies does not open on the old side, which
		// keeps them for the new side and warns.
		{name: "MaxChunks raised", old: cookiesession.Options{}, new: cookiesession.Options{MaxChunks: 2},
			script:  []rollingStep{{'O', "login?user=alice"}, {'N', "login?user=alice&pad=5000"}, {'O', "whoami"}, {'N', "whoami"}, {'O', "whoami"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"}},
			want:    []string{"O alice/ session", "N alice/ session,session.1", "O / ", "N alice/ ", "O / ", "N alice/ ", "N / -session,-session.1", "N / "},
			oldWarn: []string{"chunk cookie of the Manager's Name above MaxChunks"},
			newWarn: []string{"pass a header limit of a proxy"},
		},
		// MaxChunks raised, the other way round: the new side does not
		// open what the old one split over two cookies, keeps them for the
		// old side, and warns with the fix; a login there writes the first
		// cookie again, and the chunk above its MaxChunks stays.
		{name: "MaxChunks lowered", old: cookiesession.Options{MaxChunks: 2}, new: cookiesession.Options{},
			script:  []rollingStep{{'O', "login?user=alice&pad=5000"}, {'N', "whoami"}, {'O', "whoami"}, {'N', "whoami"}, {'N', "login?user=bob"}, {'O', "whoami"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"}},
			want:    []string{"O alice/ session,session.1", "N / ", "O alice/ ", "N / ", "N bob/ session", "O bob/ ", "N bob/ ", "N / -session", "N / "},
			left:    []string{"session.1"},
			oldWarn: []string{"pass a header limit of a proxy", "chunk cookie its session does not use|cookie=session"},
			newWarn: []string{"chunk cookie of the Manager's Name above MaxChunks|cookie=session.1|RetiredCookie{Name: \\\"session\\\", MaxChunks: 2}"},
		},
		// A session that no longer fits is refused, cleared and warned about.
		{name: "MaxCookieSize lowered", old: cookiesession.Options{}, new: cookiesession.Options{MaxCookieSize: 2048},
			script:  []rollingStep{{'O', "login?user=alice&pad=2500"}, {'N', "whoami"}, {'O', "whoami"}, {'N', "add?item=a"}, {'O', "whoami"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"}},
			want:    []string{"O alice/ session", "N / -session", "O / ", "N /a session", "O /a ", "N /a ", "N / -session", "N / "},
			newWarn: []string{"longer than MaxCookieSize and MaxChunks allow"},
		},
		// Attributes only: nothing lost, no Set-Cookie beyond the writes.
		{name: "SameSite Strict", old: cookiesession.Options{}, new: cookiesession.Options{SameSite: http.SameSiteStrictMode},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		{name: "SameSite None", old: cookiesession.Options{}, new: cookiesession.Options{SameSite: http.SameSiteNoneMode},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		// Go's jar keeps one cookie per name, domain and path: as SameSite
		// (TestLiveBrowser in e2e has Chromium's CHIPS store).
		{name: "Partitioned on", old: cookiesession.Options{}, new: cookiesession.Options{Partitioned: true},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session+P", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session+P", "N / "},
		},
		{name: "Partitioned on, retired", old: cookiesession.Options{}, new: cookiesession.Options{Partitioned: true, Retired: []cookiesession.RetiredCookie{{}}},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a -session,session+P", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session+P,-session", "N / "},
		},
		{name: "Partitioned off, retired", old: cookiesession.Options{Partitioned: true}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Partitioned: true}}},
			want: []string{"O alice/ session+P", "N alice/ ", "O alice/ ", "N alice/a -session+P,session", "O alice/a ", "O alice/ab session+P", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session,-session+P", "N / "},
		},
		{name: "HttpOnly off", old: cookiesession.Options{}, new: cookiesession.Options{DisableHttpOnly: true},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		// DisableSecure turned off (HTTPS rolled out), requests over TLS.
		{name: "Secure on", old: cookiesession.Options{DisableSecure: true}, new: cookiesession.Options{},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		// The old side writes its later deadline again once after each new
		// write; the new side still ends the session after an hour, but
		// keeps its cookie, which the old side still opens, and warns (and
		// that its writes cut the old side's longer deadline).
		{name: "MaxAge shortened", old: cookiesession.Options{MaxAge: 24 * time.Hour}, new: cookiesession.Options{MaxAge: time.Hour}, step: 10 * time.Minute,
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a session", "O alice/ab session", "N / ", "O alice/ab ", "N / ", "N / ", "N / -session", "N / "},
			newWarn: []string{cutWarn, cutWarn, longerWarn, longerWarn, longerWarn, longerWarn},
		},
		// The new side writes the cookie again to its own deadline, so the session
		// lives past the old hour; the old side warns that its writes cut it.
		{name: "MaxAge lengthened", old: cookiesession.Options{MaxAge: time.Hour}, new: cookiesession.Options{MaxAge: 24 * time.Hour}, step: 10 * time.Minute, script: maxAgeScript,
			want:    []string{"O alice/ session", "N alice/ session", "O alice/ ", "O alice/a session", "N alice/a session", "N alice/a ", "N alice/a ", "N alice/a ", "N / -session", "N / "},
			oldWarn: []string{cutWarn, cutWarn},
		},
		// Each side writes the other's deadline again: a Set-Cookie on every
		// request until the new side serves alone. Nothing lost.
		// A session the new side began outlives the old MaxAge: the old
		// side refuses it but keeps its cookie, which the new side still
		// opens, and warns with the fix.
		{name: "MaxAge lengthened, read past the old MaxAge", old: cookiesession.Options{MaxAge: time.Hour}, new: cookiesession.Options{MaxAge: 24 * time.Hour}, step: 20 * time.Minute,
			script: []rollingStep{{'N', "login?user=alice"}, {'O', "whoami"}, {'N', "add?item=a"}, {'O', "whoami"}, {'N', "whoami"}, {'O', "add?item=b"}, {'N', "whoami"}, {'N', "logout"}, {'N', "whoami"}},
			// A change on the old side then starts a new session (b) in its
			// place, as under a key the old side lacks.
			want:    []string{"N alice/ session", "O alice/ ", "N alice/a session", "O / ", "N alice/a ", "O /b session", "N /b session", "N / -session", "N / "},
			oldWarn: []string{cutWarn, longerWarn, longerWarn},
		},
		// A remember-me session the new side began, written by the old
		// side with a change: cut to the old MaxLifetime, warned at its
		// first read.
		{name: "MaxLifetime raised, remember me", old: cookiesession.Options{}, new: cookiesession.Options{MaxLifetime: 720 * time.Hour}, step: time.Hour,
			script:  []rollingStep{{'N', "login?user=alice&remember=720h"}, {'O', "whoami"}, {'O', "add?item=a"}, {'N', "whoami"}, {'O', "add?item=b"}, {'O', "add?item=c"}, {'N', "logout"}, {'N', "whoami"}},
			want:    []string{"N alice/ session", "O alice/ ", "O alice/a session", "N alice/a session", "O alice/ab session", "O alice/abc session", "N / -session", "N / "},
			oldWarn: []string{cutWarn, cutWarn, cutWarn},
		},
		{name: "IdleTimeout shortened", old: cookiesession.Options{IdleTimeout: 8 * time.Hour}, new: cookiesession.Options{IdleTimeout: 30 * time.Minute}, step: 5 * time.Minute,
			want: []string{"O alice/ session", "N alice/ session", "O alice/ session", "N alice/a session", "O alice/a session", "O alice/ab session", "N alice/ab session", "O alice/ab session", "N alice/ab session", "N alice/ab ", "N / -session", "N / "},
		},
		{name: "IdleTimeout lengthened", old: cookiesession.Options{IdleTimeout: 30 * time.Minute}, new: cookiesession.Options{IdleTimeout: 8 * time.Hour}, step: 5 * time.Minute,
			want: []string{"O alice/ session", "N alice/ session", "O alice/ session", "N alice/a session", "O alice/a session", "O alice/ab session", "N alice/ab session", "O alice/ab session", "N alice/ab session", "N alice/ab ", "N / -session", "N / "},
		},
		{name: "BrowserSession on", old: cookiesession.Options{}, new: cookiesession.Options{BrowserSession: true},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		{name: "BrowserSession off", old: cookiesession.Options{BrowserSession: true}, new: cookiesession.Options{},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		{name: "RefreshThreshold", old: cookiesession.Options{IdleTimeout: time.Hour, RefreshThreshold: 0.5}, new: cookiesession.Options{IdleTimeout: time.Hour, RefreshThreshold: 0.9}, step: 5 * time.Minute,
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab session", "N alice/ab ", "N / -session", "N / "},
		},
		// A Retired entry for a cookie no side writes: its line rides along
		// with each write, nothing else.
		{name: "Retired added", old: cookiesession.Options{}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}},
			want: []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a -old,session", "O alice/a ", "O alice/ab session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session,-old", "N / "},
		},
		{name: "Retired removed", old: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}}, new: cookiesession.Options{},
			want: []string{"O alice/ -old,session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a ", "O alice/ab -old,session", "N alice/ab ", "O alice/ab ", "N alice/ab ", "N alice/ab ", "N / -session", "N / "},
		},
		// Every session the old side writes, its login included, is refused
		// and cleared by the new side (a revocation: logged at Debug).
		{name: "Validate added", old: cookiesession.Options{}, new: cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
			if s.GetString("gen") != "2" {
				return fmt.Errorf("generation %q", s.GetString("gen"))
			}
			return nil
		}},
			want: []string{"O alice/ session", "N / -session", "O / ", "N /a session", "O /a ", "O /ab session", "N / -session", "O / ", "N / ", "N / ", "N / ", "N / "},
		},
		// Only the lowered instance cuts the session (at 5 minutes), and
		// keeps its cookie for the other, which writes its own deadline
		// again after it.
		{name: "SetMaxLifetime lowered on one", old: cookiesession.Options{}, new: cookiesession.Options{},
			setup: func(oldM, newM *cookiesession.Manager) {
				if err := newM.SetMaxLifetime(5 * time.Minute); err != nil {
					panic(err)
				}
			},
			want:    []string{"O alice/ session", "N alice/ ", "O alice/ ", "N alice/a session", "O alice/a session", "O alice/ab session", "N / ", "O alice/ab ", "N / ", "N / ", "N / -session", "N / "},
			newWarn: []string{cutWarn, cutWarn, longerWarn, longerWarn, longerWarn, longerWarn},
		},
	} {
		t.Run(tc.name, func(t *testing.T) { runRolling(t, tc) })
	}
}

// TestRetiredLiveWarns changes the Name with the old one in Retired: the
// first request after the change expires the old cookie, which holds a
// session from before the new Manager started, and logs nothing; a
// session the old Name's Manager began after that is an old instance
// still serving, and is logged once.
func TestRetiredLiveWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	login := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	}
	b := newClientCookies()
	f.serve(b, login)
	f.clock.Advance(time.Minute)
	var log syncBuffer
	newM := f.manager(cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Name: "session"}},
		Logger: debugLogger(&log)})
	const live = "began after this Manager started"
	for i, tc := range []struct {
		oldLogin bool
		warns    int
	}{{false, 0}, {true, 1}, {true, 1}} {
		if tc.oldLogin {
			f.clock.Advance(time.Second)
			f.serve(b, login)
		}
		resp := serveWith(t, newM, b, whoami)
		if got := setCookieTrace(t, resp.Header); got != "-session" {
			t.Errorf("request %d: Set-Cookie %q, want -session", i, got)
		}
		if got := len(log.lines(live)); got != tc.warns {
			t.Errorf("request %d: %d Warn lines %q, want %d; log:\n%s", i, got, live, tc.warns, log.String())
		}
	}
}

// TestLongerMaxAgeKeptOnlyIfBegunSince lowers MaxAge: a session begun
// before the new Manager started, past its MaxAge, is cleared and logged
// at Debug (the change is meant to end it); one begun since by an
// instance still on the longer MaxAge is kept for that instance and
// logged at Warn with the fix, until a logout there clears it.
func TestLongerMaxAgeKeptOnlyIfBegunSince(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 24 * time.Hour})
	login := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	}
	b := newClientCookies()
	f.serve(b, login)
	f.clock.Advance(time.Minute)
	var log syncBuffer
	newM := f.manager(cookiesession.Options{MaxAge: time.Hour, Logger: debugLogger(&log)})
	for i, tc := range []struct {
		oldLogin bool
		trace    string
		warns    int
	}{{false, "-session", 0}, {true, "", 1}} {
		if tc.oldLogin {
			f.serve(b, login)
		}
		f.clock.Advance(2 * time.Hour)
		resp := serveWith(t, newM, b, whoami)
		if got := setCookieTrace(t, resp.Header); got != tc.trace {
			t.Errorf("request %d: Set-Cookie %q, want %q", i, got, tc.trace)
		}
		if got := len(warns(&log)); got != tc.warns {
			t.Errorf("request %d: %d Warn lines, want %d; log:\n%s", i, got, tc.warns, log.String())
		}
		if body, _ := io.ReadAll(resp.Body); len(body) != 0 {
			t.Errorf("request %d: the new Manager read %q, want no user", i, body)
		}
	}
	if body, _ := io.ReadAll(f.serve(b, whoami).Body); string(body) != "alice" {
		t.Errorf("the old Manager then read %q, want alice", body)
	}
	// A logout written as Delete there clears the cookie it kept.
	resp := serveWith(t, newM, b, func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Delete("user")
	})
	if got := setCookieTrace(t, resp.Header); got != "-session" {
		t.Errorf("a Delete on the new Manager: Set-Cookie %q, want -session", got)
	}
}

// TestMaxLifetimeSetAgainKeepsLonger: an old instance (MaxAge 1h) whose
// code calls SetMaxLifetime again with the value in force (a config
// watcher that reapplies its settings) still keeps, and warns of, a
// session a new instance (MaxAge 24h) began before that call and after
// New: only a lowered MaxLifetime is meant to end the sessions begun
// before it, and an unchanged one moved that line to the call and
// signed the user out at Debug.
func TestMaxLifetimeSetAgainKeepsLonger(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 24 * time.Hour})
	var log syncBuffer
	old := f.manager(cookiesession.Options{MaxAge: time.Hour, Logger: debugLogger(&log)})
	b := newClientCookies()
	f.clock.Advance(time.Minute)
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	f.clock.Advance(time.Minute)
	mustNil(t, old.SetMaxLifetime(time.Hour))
	f.clock.Advance(2 * time.Hour)
	resp := serveWith(t, old, b, whoami)
	if got := setCookieTrace(t, resp.Header); got != "" {
		t.Errorf("Set-Cookie %q, want none: the new instance still opens it", got)
	}
	if got := len(warns(&log)); got != 1 {
		t.Errorf("%d Warn lines, want 1; log:\n%s", got, log.String())
	}
	// Lowered, it ends the sessions begun before, at Debug.
	mustNil(t, old.SetMaxLifetime(time.Hour-time.Minute))
	resp = serveWith(t, old, b, whoami)
	if got := setCookieTrace(t, resp.Header); got != "-session" {
		t.Errorf("after SetMaxLifetime lowered: Set-Cookie %q, want -session", got)
	}
}

// TestMaxLifetimeLoweredAboveMaxAgeKeepsLonger: an old instance (MaxAge
// 1h, MaxLifetime 30 days) whose MaxLifetime is lowered to 7 days kept
// no session begun before the call, and cleared at Debug one a new
// instance (MaxAge 24h) began: a lowered MaxLifetime that does not end a
// session (its MaxAge does, as since New) is not meant to end it, so it
// is kept and warned of. A "remember me" session of 30 days, which the 7
// days do end, begun before the call, is still cleared at Debug.
func TestMaxLifetimeLoweredAboveMaxAgeKeepsLonger(t *testing.T) {
	day := 24 * time.Hour
	f, old, log, plain, remembered := loweredAboveMaxAge(t)
	f.clock.Advance(2 * time.Hour)
	resp := serveWith(t, old, plain, whoami)
	if got := setCookieTrace(t, resp.Header); got != "" {
		t.Errorf("the 24h session, 2h old: Set-Cookie %q, want none: the new instance still opens it", got)
	}
	if got := len(warns(log)); got != 1 {
		t.Errorf("%d Warn lines, want 1; log:\n%s", got, log.String())
	}
	f.clock.Advance(7 * day)
	resp = serveWith(t, old, remembered, whoami)
	if got := setCookieTrace(t, resp.Header); got != "-session" {
		t.Errorf("the 30-day session, 7 days old, begun before the 7 days: Set-Cookie %q, want -session", got)
	}
}

// TestMaxLifetimeLoweredAboveMaxAgeWarnsCut: warnCut draws its line as
// sealedLonger does. An old instance (MaxAge 1h, MaxLifetime 30 days)
// lowered to 7 days opens, half an hour in, a 24h session a new instance
// began between New and the call: its MaxAge, not the 7 days, cuts it,
// so the rolling deployment is warned of, where the line of the call
// hid it. A 30-day "remember me" session begun then, opened two days in,
// is the one the 7 days are meant to cut: no Warn, where New's line gave
// one.
func TestMaxLifetimeLoweredAboveMaxAgeWarnsCut(t *testing.T) {
	day := 24 * time.Hour
	f, old, log, plain, remembered := loweredAboveMaxAge(t)
	readBody := func(resp *http.Response) string {
		b, err := io.ReadAll(resp.Body)
		mustNil(t, err)
		return string(b)
	}
	f.clock.Advance(30 * time.Minute)
	if body := readBody(serveWith(t, old, plain, whoami)); body != "alice" {
		t.Fatalf("the 24h session, 32 minutes old: %q, want alice", body)
	}
	if got := warns(log); len(got) != 1 || !strings.Contains(got[0], "runs past the end this Manager's MaxAge or MaxLifetime gives it") {
		t.Errorf("the 24h session a new instance began after New, cut to the old one's MaxAge: Warn lines %q, want the cut's", got)
	}
	f.clock.Advance(2 * day)
	if body := readBody(serveWith(t, old, remembered, whoami)); body != "bob" {
		t.Fatalf("the 30-day session, 2 days old: %q, want bob", body)
	}
	if got := warns(log); len(got) != 1 {
		t.Errorf("the 30-day session begun before the 7 days: %d Warn lines, want still 1; log:\n%s", len(got), log.String())
	}
}

// loweredAboveMaxAge serves the two tests above: a new instance (MaxAge
// 24h, MaxLifetime 30 days) signs in alice (plain) and, with a 30-day
// Lifetime, bob (remembered), a minute after an old one (MaxAge 1h,
// MaxLifetime 30 days, logging to log) was built; a minute later the old
// one's MaxLifetime is lowered to 7 days.
func loweredAboveMaxAge(t *testing.T) (f *fixture, old *cookiesession.Manager, log *syncBuffer, plain, remembered *clientCookies) {
	t.Helper()
	day := 24 * time.Hour
	f = newFixture(t, cookiesession.Options{MaxAge: day, MaxLifetime: 30 * day})
	log = new(syncBuffer)
	old = f.manager(cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 30 * day, Logger: debugLogger(log)})
	plain, remembered = newClientCookies(), newClientCookies()
	f.clock.Advance(time.Minute)
	f.serve(plain, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	f.serve(remembered, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_ = s.Set("user", "bob")
		mustNil(t, s.SetLifetime(cookiesession.Lifetime{MaxAge: 30 * day}))
	})
	f.clock.Advance(time.Minute)
	mustNil(t, old.SetMaxLifetime(7*day))
	return f, old, log, plain, remembered
}

// whoami answers with the session's "user".
func whoami(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte(cookiesession.FromContext(r.Context()).GetString("user")))
}
