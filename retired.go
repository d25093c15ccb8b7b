package cookiesession

import (
	"fmt"
	"hash/maphash"
	"iter"
	"log/slog"
	"math/bits"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"time"
)

// Retired cookies: those an earlier configuration wrote under another
// Name, Path, Domain or partitioning, or in more chunks. Browsers keep
// them until they expire, and send them with every request: dead weight
// in the Cookie header, and, under the session's own name, a second
// session that a logout on the new configuration would not end.

// RetiredCookie is a cookie an earlier configuration of the Manager wrote
// (see Options.Retired). Each field means what the Options field of that
// name means, with the same default: RetiredCookie{Path: "/app"} is the
// cookie "session" on Path /app, host-only, in one chunk. A Manager of
// another Name needs the Name said: an entry without one could mean the
// old default "session" or the Manager's own name, and New refuses it.
//
// Carry keeps the users of a renamed cookie signed in (Name "session" to
// "__Host-session"): a request that carries no cookie of the Manager's
// names but carries this one, all its chunks up to MaxChunks, has its
// session opened from it, under the Manager's key ring with this Name as
// the token's bound name, and with every check of an ordinary open
// (expiry, idle deadline, the session's own Lifetime, MaxLifetime,
// Validate). The session keeps its id, creation time, deadline, values
// and Lifetime; the response writes it under the Manager's Name, even
// when the handler only reads it (not under Session.SkipRefresh, which
// keeps this cookie for the next request), and expires this cookie. A token that
// does not open, or is longer than the Manager's cookies hold (logged at
// Warn once), is not carried: the request gets a new session, and the
// refusal counts under Metrics.Refused. One under a key id the ring
// lacks, or created ahead of the clock, is logged at Warn and kept, as
// the Manager's own cookie would be, unless the handler stores
// something. A request that carries a cookie of the Manager's own names
// never looks at this one, whether its own opens or not. A session is
// carried only while the entry stays; keep it for MaxAge (MaxLifetime,
// if sessions set their own). Carrying trusts the old cookie as the Manager trusts its own: a
// cookie of the old name that another host of the site set (cookie
// tossing; see the package documentation) is carried too, so a rename
// made to stop tossing must not set Carry. New refuses Carry on an entry
// of the Manager's own Name, whose cookies open as the session's own.
type RetiredCookie struct {
	Name        string // default "session", for a Manager of that Name
	Path        string // default "/"
	Domain      string // default none: host-only
	Partitioned bool
	MaxChunks   int  // default 1
	Carry       bool // open the session from this cookie of another Name
}

// retire renders the lines that expire every cookie of opts.Retired that
// is not one of the Manager's own (same name, Path, Domain and
// partitioning), with the Manager's Secure, HttpOnly and SameSite, which
// a browser asks of a line that replaces a cookie (a __Host- name's
// rules). It notes the names the request may carry that the Manager does
// not read, and whether a retired cookie has one of the Manager's names.
func (m *Manager) retire(opts *Options) error {
	for i, rc := range opts.Retired {
		if err := m.retireEntry(opts, i, rc); err != nil {
			return err
		}
	}
	if err := m.retiredCodecs(opts); err != nil {
		return err
	}
	if m.retiredLines != nil {
		m.answered.seed, m.answered.seen, m.answered.back = maphash.MakeSeed(), map[uint64]uint64{}, map[uint64]struct{}{}
	}
	m.lineNames = m.names
	if len(m.retiredNames) > 0 {
		m.lineNames = append(slices.Clone(m.names), m.retiredNames...)
	}
	return nil
}

// retireEntry checks Options.Retired[i] and adds the lines that expire its
// cookies, and its name among the bases a request's cookies are read
// against.
func (m *Manager) retireEntry(opts *Options, i int, rc RetiredCookie) error {
	if rc.Name == "" && opts.Name != "session" {
		// Moving a cookie of this Manager's and retiring the default
		// name's are both likely: a guess would expire the wrong one.
		return fmt.Errorf("cookiesession: Options.Retired[%d] has no Name, and this Manager's is %q: say Name: %q for a cookie of this Manager's name at another Path, Domain, partitioning or chunk count, or Name: \"session\" for one of the default name", i, opts.Name, opts.Name)
	}
	setDefault(&rc.Name, "session")
	setDefault(&rc.Path, "/")
	setDefault(&rc.MaxChunks, 1)
	if err := m.checkRetired(opts, rc); err != nil {
		return fmt.Errorf("cookiesession: Options.Retired[%d]: %w", i, err)
	}
	if rc.Carry && rc.Name == opts.Name {
		return fmt.Errorf("cookiesession: Options.Retired[%d] sets Carry on a cookie of the Manager's own Name %q: such a cookie already opens as the session's own, and the entry only expires it; Carry is for a cookie of another Name (a rename)", i, rc.Name)
	}
	own := rc.Path == opts.Path && sameDomain(rc.Domain, opts.Domain) && rc.Partitioned == opts.Partitioned
	before, repeats := len(m.retiredLines), false
	for c := range rc.MaxChunks {
		name := chunkName(rc.Name, c)
		mine := slices.Contains(m.names, name)
		if mine && own {
			continue // the Manager's own cookie: not retired
		}
		expire := m.attrs
		expire.Name, expire.Path, expire.Domain, expire.Partitioned, expire.MaxAge = name, rc.Path, rc.Domain, rc.Partitioned, -1
		line := expire.String()
		if slices.Contains(m.retiredLines, line) {
			repeats = true // an earlier entry's: one line expires it
			continue
		}
		m.retiredLines = append(m.retiredLines, line)
		m.retiresOwn = m.retiresOwn || mine
		if !mine && !slices.Contains(m.retiredNames, name) {
			m.retiredNames = append(m.retiredNames, name)
		}
	}
	b := slices.IndexFunc(m.retiredBases, func(b retiredBase) bool { return b.name == rc.Name })
	if b < 0 {
		b = len(m.retiredBases)
		m.retiredBases = append(m.retiredBases, retiredBase{name: rc.Name, entry: i, maxChunks: rc.MaxChunks})
	} else if rc.MaxChunks > m.retiredBases[b].maxChunks {
		m.retiredBases[b].entry, m.retiredBases[b].maxChunks = i, rc.MaxChunks
	}
	if rc.Carry {
		m.retiredBases[b].carryChunks = max(m.retiredBases[b].carryChunks, rc.MaxChunks)
	}
	if len(m.retiredLines) == before && repeats {
		return fmt.Errorf("cookiesession: Options.Retired[%d] lists only cookies an earlier entry lists (%q on Path %q): remove it", i, rc.Name, rc.Path)
	}
	if len(m.retiredLines) == before {
		return fmt.Errorf("cookiesession: Options.Retired[%d] is the Manager's own cookie %q (same Path, Domain and Partitioned, no more chunks than MaxChunks %d): list the Name, Path, Domain, Partitioned or MaxChunks the earlier configuration had",
			i, rc.Name, opts.MaxChunks)
	}
	return nil
}

// retiredCodecs builds, for each retired name other than the session's,
// the codec that reads when its session began and, for a carried one, the
// codec that opens it for the Manager.
func (m *Manager) retiredCodecs(opts *Options) error {
	room := 0 // the token length the Manager's cookies hold
	for _, c := range m.caps {
		room += c
	}
	for i, b := range m.retiredBases {
		if b.name == opts.Name {
			continue // a second cookie of the session's own name: see warnShadowed
		}
		// Opens that cookie's first chunk only to see when its session
		// began (warnRetiredLive): any MaxAge that keeps a young one.
		// SetMaxLifetime leaves it as it is, so KeyRing.Remove does not
		// count it (newCodec): the carry Codec below keeps sessions.
		codec, err := newCodec(m.ring, CodecOptions{Name: b.name, MaxAge: max(opts.MaxAge, opts.MaxLifetime), MaxTokenLen: browserCookieSize})
		if err != nil {
			return err
		}
		m.retiredBases[i].codec = codec
		if b.carryChunks > 0 {
			// The Manager's own limits, and its cookies' room: a longer
			// token would open here and fail to fit when written.
			carry, err := NewCodec(m.ring, CodecOptions{Name: b.name, MaxAge: opts.MaxAge, IdleTimeout: opts.IdleTimeout,
				MaxLifetime: opts.MaxLifetime, MaxTokenLen: room})
			if err != nil {
				return err
			}
			m.retiredBases[i].carry = carry
		}
	}
	return nil
}

// sameDomain reports whether two Domain attributes name one domain, as
// browsers read them: without a leading dot, in any case. A line that
// expires the one would expire the other.
func sameDomain(a, b string) bool {
	return strings.EqualFold(strings.TrimPrefix(a, "."), strings.TrimPrefix(b, "."))
}

// checkRetired applies New's rules for a cookie to rc, as the earlier
// configuration had it, with the Manager's Secure and HttpOnly: a line
// that breaks them (a __Host- name on a Path other than "/") would be
// dropped by browsers. A Path written otherwise than browsers send it
// (pathBrowsersMatch) is taken: an earlier release wrote it so.
func (m *Manager) checkRetired(opts *Options, rc RetiredCookie) error {
	if rc.MaxChunks < 1 || rc.MaxChunks > maxChunks {
		return fmt.Errorf("MaxChunks %d is not between 1 and %d", rc.MaxChunks, maxChunks)
	}
	o := *opts
	o.Name, o.Path, o.Domain, o.Partitioned = rc.Name, rc.Path, rc.Domain, rc.Partitioned
	return o.checkCookie()
}

// carriesRetired reports whether the request's Cookie lines hold a
// retired cookie: one of a name the Manager does not read, or, when a
// retired cookie has the session's own name, a second cookie of one of
// its names (s.shadowed, from readToken). Until warnStaleChunk has
// logged, the same scan looks at every cookie for a chunk that no
// retired line expires: one whose value a chunk may hold (chunkText).
func (m *Manager) carriesRetired(r *http.Request, s *Session) bool {
	carries := s.shadowed && m.retiresOwn
	look := !m.staleChunkLogged.Load()
	for name, value := range requestCookies(r.Header["Cookie"]) {
		if !look && carries {
			break
		}
		if slices.Contains(m.retiredNames, name) {
			carries = true
		} else if look && chunkText(unquote(value)) {
			look = !m.warnStaleChunk(s, r, name)
		}
	}
	return carries
}

// requestCookies yields the name and value of each cookie in the Cookie
// lines, split and trimmed as readToken splits them (FORMAT.md section
// 5, step 1), the value as sent. The scans of the retired cookies, off
// the request path of a request that carries none, use it; readToken
// splits inline.
func requestCookies(lines []string) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		for _, line := range lines {
			for line != "" {
				var part string
				part, line = cutByte(line, ';')
				name, value := cutByte(textproto.TrimString(part), '=')
				if !yield(textproto.TrimString(name), value) {
					return
				}
			}
		}
	}
}

// retiredBase is, for one Name in Options.Retired, the entry that lists
// the most of its chunks: its index and MaxChunks.
type retiredBase struct {
	name      string
	entry     int
	maxChunks int
	codec     *Codec // for a Name other than the Manager's: see warnRetiredLive
	// carryChunks is the most MaxChunks of the entries of this Name that
	// set Carry (0: none), and carry their codec: see carry.
	carryChunks int
	carry       *Codec
}

// staleChunk returns the retiredBase of which name, a cookie name that
// is not a retired one, is a chunk name (name.N, N from 1 to maxChunks-1,
// as chunkName writes it), or nil. Such a cookie is above every entry's
// MaxChunks for that Name: no retired line expires it. One of the
// Manager's own names is not stale.
func (m *Manager) staleChunk(name string) *retiredBase {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return nil
	}
	if chunkNumber(name[dot+1:]) < 1 {
		return nil
	}
	for i := range m.retiredBases {
		if b := &m.retiredBases[i]; b.name == name[:dot] && m.chunkIndex(name) < 0 {
			return b
		}
	}
	return nil
}

// warnStaleChunk logs, once per Manager, and reports, a cookie that is a
// chunk of a retired Name above its entry's MaxChunks (staleChunk): the
// earlier configuration wrote more chunks than the entry says, and the
// browser sends those until they expire.
func (m *Manager) warnStaleChunk(s *Session, r *http.Request, name string) bool {
	b := m.staleChunk(name)
	if b == nil || m.staleChunkLogged.Swap(true) {
		return b != nil
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: the request carried a chunk cookie of a Name that Options.Retired lists, above that entry's MaxChunks (default 1): no line of the Manager expires it, and the browser sends it with every request until it expires (logged once)",
		slog.String("cookie", name), slog.String("retired", fmt.Sprintf("Options.Retired[%d] (Name %q, MaxChunks %d)", b.entry, b.name, b.maxChunks)),
		slog.String("path", urlPath(r)),
		slog.String("fix", fmt.Sprintf("set MaxChunks in Options.Retired[%d] to the MaxChunks of the configuration that wrote %q", b.entry, b.name)))
	return true
}

// warnAboveMaxChunks logs, once per Manager, a request that carried chunk
// n of the Manager's Name, above MaxChunks, when no Options.Retired entry
// lists that Name (warnStaleChunk names a chunk above an entry's
// MaxChunks): an instance with a higher MaxChunks wrote it, one of a
// rolling deployment that raises MaxChunks, or this one before MaxChunks
// was lowered. A session sealed over more chunks than the Manager reads
// does not open, so its request gets a new session; load keeps the
// cookies (for an instance that reads them), and no line expires the
// chunk, which the browser sends with every request until it expires.
func (m *Manager) warnAboveMaxChunks(s *Session, r *http.Request, n int) {
	if m.aboveChunksLogged.Load() || m.retiresOwnName() || m.aboveChunksLogged.Swap(true) {
		return
	}
	entry := fmt.Sprintf("Name: %q", m.opts.Name)
	if m.opts.Path != "/" {
		entry += fmt.Sprintf(", Path: %q", m.opts.Path)
	}
	if m.opts.Domain != "" {
		entry += fmt.Sprintf(", Domain: %q", m.opts.Domain)
	}
	if m.opts.Partitioned {
		entry += ", Partitioned: true"
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: the request carried a chunk cookie of the Manager's Name above MaxChunks: a configuration with a higher MaxChunks wrote it (an instance of a rolling deployment that raises MaxChunks, or this one before MaxChunks was lowered); a session sealed over more cookies than MaxChunks does not open here, and its request gets a new session, but its cookies stay, for an instance that reads them, unless the handler stores something; no line of the Manager expires the chunk, and the browser sends it with every request until it expires (logged once)",
		slog.String("cookie", chunkName(m.opts.Name, n)), slog.Int("max_chunks", len(m.names)), slog.String("path", urlPath(r)),
		slog.String("fix", fmt.Sprintf("give every instance that serves this cookie the same MaxChunks: finish the rollout, or roll it back; if MaxChunks was lowered, set it back to %d or more, which reads those sessions, or, to end them, list the earlier configuration in Options.Retired, RetiredCookie{%s, MaxChunks: %d}, whose chunks above MaxChunks the Manager then expires", n+1, entry, n+1)))
}

// retiresOwnName reports whether an Options.Retired entry has the
// Manager's Name: its chunks above MaxChunks are retired lines, or stale
// ones that warnStaleChunk names.
func (m *Manager) retiresOwnName() bool {
	return slices.ContainsFunc(m.retiredBases, func(b retiredBase) bool { return b.name == m.opts.Name })
}

// expireRetired answers a request that carried a retired cookie, and
// whose session sets none of its own, with the lines that expire them.
func (m *Manager) expireRetired(h http.Header, s *Session, buf *headerBuf) {
	lines := append(buf.setCookieLines(len(m.retiredLines)), m.retiredLines...)
	if foreign := setCookies(h, m.lineNames, nil, lines, buf); foreign != "" {
		m.warnReplaced(s, foreign)
	}
	s.lines = lines
}

// retiredVisit is what a request that carries a retired cookie holds: a
// fingerprint of each retired cookie (name and value), or, beside a second
// value of one of our names, of each cookie of those names, since no
// request tells which of them is the retired one; and of all these and
// our names' cookies together; and whether it carries a cookie of our
// names.
type retiredVisit struct {
	cookies []retiredSeen
	all     uint64
	ours    bool
}

type retiredSeen struct {
	name string
	fp   uint64
}

// retiredMemo remembers the cookies the Manager answered with the lines
// that expire Options.Retired, each with a fingerprint of all the cookies
// of ours and of Options.Retired that its request carried. No request can
// say whether those lines reach a cookie: one set for a Path or Domain
// that no Retired entry names, or tossed by another host of the site,
// comes back with every request, and answering it each time would write
// Set-Cookie (and, beside a value of the session's own name, re-seal the
// session) on every response for ever. A cookie that comes back unchanged
// beside cookies of ours that changed since proves it: the browser took a
// later response, whose retired lines came first. One that comes back
// with nothing changed proves nothing (the answer may never have reached
// the browser: a lost response, a parallel request) and is answered again;
// so does one beside no cookie of ours, since the browser drops a session
// cookie by itself (its MaxAge passed, a browser-session cookie at exit).
// The memo holds fingerprints only, at most maxRetiredAnswers: a full memo
// starts over, which costs a client caught in such a loop one more answer.
// It also holds the cookies proven so, and those of a request whose
// response ended its session (back): a session carried from one
// (RetiredCookie.Carry) would outlive every logout, so none is carried
// from it again. A logout that is the first request after a rename never
// sees the old cookie come back beside the new one, and its lines may not
// reach it.
type retiredMemo struct {
	mu   sync.Mutex
	seed maphash.Seed
	seen map[uint64]uint64   // a retired cookie's fingerprint: the request's
	back map[uint64]struct{} // the fingerprints of those that came back
}

const maxRetiredAnswers = 4096

// maxVisited bounds the cookies a visit notes: a hand-made request may
// carry thousands of one name.
const maxVisited = 16

// visit notes what r carries of retired cookies, for a request that
// carries one (see carriesRetired).
func (m *Manager) visit(r *http.Request, shadowed bool) *retiredVisit {
	own := shadowed && m.retiresOwn
	v := &retiredVisit{}
	for name, value := range requestCookies(r.Header["Cookie"]) {
		retired := slices.Contains(m.retiredNames, name)
		if !retired && m.chunkIndex(name) < 0 {
			continue
		}
		fp := m.answered.fingerprint(name, value)
		v.all += fp
		v.ours = v.ours || !retired
		if (retired || own) && len(v.cookies) < maxVisited {
			v.cookies = append(v.cookies, retiredSeen{name, fp})
		}
	}
	return v
}

// cameBack reports, and logs once, whether a retired cookie of v came
// back after the Manager answered it, beside cookies of ours that changed
// since: the lines cannot reach it.
func (m *Manager) cameBack(s *Session, r *http.Request, v *retiredVisit) bool {
	memo := &m.answered
	memo.mu.Lock()
	defer memo.mu.Unlock()
	back := false
	for _, c := range v.cookies {
		if all, ok := memo.seen[c.fp]; ok && all != v.all && v.ours {
			m.warnRetiredBack(s, r, c.name)
			memo.back[c.fp] = struct{}{}
			back = true
		}
	}
	return back
}

// fingerprint returns the fingerprint of the cookie name=value (its value
// less the quotes RFC 6265 allows) under the memo's seed.
func (memo *retiredMemo) fingerprint(name, value string) uint64 {
	var h maphash.Hash
	h.SetSeed(memo.seed)
	h.WriteString(name)
	h.WriteByte('=')
	h.WriteString(unquote(value))
	return h.Sum64()
}

// cameBackBefore reports whether the cookie name=value came back after an
// answer that expired it (see cameBack).
func (memo *retiredMemo) cameBackBefore(name, value string) bool {
	fp := memo.fingerprint(name, value)
	memo.mu.Lock()
	defer memo.mu.Unlock()
	_, ok := memo.back[fp]
	return ok
}

// answer records that the response expires the retired cookies of v, and,
// if ended, that it ended the session: none of them is carried again.
func (m *Manager) answer(v *retiredVisit, ended bool) {
	memo := &m.answered
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if len(memo.seen) >= maxRetiredAnswers {
		clear(memo.seen)
	}
	if len(memo.back) >= maxRetiredAnswers {
		clear(memo.back)
	}
	for _, c := range v.cookies {
		if _, ok := memo.seen[c.fp]; !ok {
			memo.seen[c.fp] = v.all
		}
		if ended {
			memo.back[c.fp] = struct{}{}
		}
	}
}

// warnRetiredBack logs, once per Manager, a cookie that came back after
// the Manager answered it with the lines that expire Options.Retired.
func (m *Manager) warnRetiredBack(s *Session, r *http.Request, name string) {
	if m.retiredBackLogged.Load() || m.retiredBackLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a cookie came back after the response that expires Options.Retired: those lines cannot reach it (it was set for a Path or Domain that no Retired entry names, or by another host of the site), so the Manager stops answering it on its own, and only a response that sets the session's cookies still expires it (logged once)",
		slog.String("cookie", name), slog.String("path", urlPath(r)),
		slog.String("fix", "list the cookie's own Path and Domain (a browser's developer tools show them) in Options.Retired; a cookie another host set (cookie tossing) cannot be expired from this one: name the session's cookie with the __Host- prefix (Options.Name \"__Host-session\"), which no other host can set"))
}

// warnRetiredLive logs, once per Manager, a request whose retired cookie
// of another Name holds a session that began after this Manager started:
// an instance of the earlier configuration still writes that cookie (a
// rolling deployment of a Name change, with Options.Retired shipped in
// it). The line that expires it signs the user out there, and each side
// signs the user out of the other's session until the rollout ends (an
// entry with Carry: see warnCarriedLive). Only a token in one cookie is
// opened, and only until this has logged.
func (m *Manager) warnRetiredLive(s *Session, r *http.Request, now time.Time) {
	if m.retiredLiveLogged.Load() {
		return
	}
	for name, value := range requestCookies(r.Header["Cookie"]) {
		b := slices.IndexFunc(m.retiredBases, func(b retiredBase) bool { return b.name == name && b.codec != nil })
		if b < 0 {
			continue
		}
		var rec Record
		if m.retiredBases[b].codec.open(unquote(value), now, &rec) != nil || rec.Created.Unix() < m.started {
			continue
		}
		if m.retiredLiveLogged.Swap(true) {
			return
		}
		if m.retiredBases[b].carry != nil {
			m.warnCarriedLive(s, r, &m.retiredBases[b])
			return
		}
		s.log(r.Context(), slog.LevelWarn, "cookiesession: the request carried a cookie that Options.Retired lists, holding a session that began after this Manager started: an instance of the earlier configuration writes it (a rolling deployment), and the line that expires it signs the user out there, so each side signs the user out of the other's session until the rollout ends (logged once)",
			slog.String("cookie", name), slog.String("retired", fmt.Sprintf("Options.Retired[%d]", m.retiredBases[b].entry)), slog.String("path", urlPath(r)),
			slog.String("fix", "finish the rollout; for a Name change, ship the new Name without this Retired entry, and add the entry in a later deployment, once no instance writes the old Name (README, \"Changing cookie settings on a live fleet\")"))
		return
	}
}

// carry opens into s, for a request that carries no cookie of the
// Manager's names and a retired one (s.retired), the session of a
// retired cookie whose entry sets Carry (RetiredCookie.Carry), as load
// opens the Manager's own: under its ring, with the retired Name bound,
// and through Validate. The first that opens is the session; s stays new
// if none does. A token not carried counts under Metrics.Refused and is
// logged as a refused cookie of the Manager's is (refusedCookie), and one
// longer than the Manager's cookies hold at Warn, once. One under a key
// id this instance lacks, or created ahead of its clock, opens elsewhere
// or later, as the Manager's own would: it is kept (s.retired is unset,
// so a response that writes nothing does not expire it), unless a Delete
// or Clear means to remove what it holds (s.unread).
func (m *Manager) carry(r *http.Request, s *Session, now time.Time) {
	kept := false
	for i := range m.retiredBases {
		b := &m.retiredBases[i]
		if b.carry == nil {
			continue
		}
		token, first, err := retiredToken(r.Header["Cookie"], b)
		if token == "" && err == nil {
			continue // none of this Name's chunks
		}
		if err == nil && m.answered.cameBackBefore(b.name, first) {
			// The lines that expire it never reach it: carried, it would
			// sign the user back in after every logout.
			err = invalid(0, "retired cookie %s came back after the lines that expire it, or after a response that ended its session", b.name)
		}
		var rec Record
		if err == nil {
			err = b.carry.open(token, now, &rec)
		}
		if err == nil {
			s.adopt(&rec)
			maxAge, _ := m.codec.limits(&rec.Lifetime)
			s.expires = min(s.expires, s.created+maxAge)
			err = m.validate(r, s)
		}
		if err == nil {
			m.stats.open(rec.KeyID)
			m.stats.carried.Add(1)
			return
		}
		s.reset(now)
		if te, ok := err.(*TokenError); ok && te.long > 0 {
			m.warnCarryTooLong(s, r, b, te.long)
		}
		kept = kept || keepsCookie(err)
		m.refusedCookie(s, r, b.name, err, false)
	}
	if kept {
		// A Delete or Clear, a logout, expires it all the same (dropUnread).
		s.retired, s.unread = false, cookieKept
	}
}

// retiredToken joins the chunks of b's Name that the Cookie lines carry,
// up to b.carryChunks, as readToken joins the Manager's (FORMAT.md section
// 5, steps 1 to 4): the first cookie of each chunk name, in index order,
// with no chunk missing below the highest, within b.carry's token limit.
// It returns "" and no error for none, and the first chunk's value beside
// the token. A second value of a chunk name is
// an error: no request tells which one the browser's own is, and one
// tossed by another host would be carried.
func retiredToken(lines []string, b *retiredBase) (token, first string, err error) {
	values := make([]string, b.carryChunks)
	var present uint64 // bit i: chunk i was sent
	total := 0
	for name, value := range requestCookies(lines) {
		i := 0
		if name != b.name {
			suffix, ok := strings.CutPrefix(name, b.name+".")
			if i = chunkNumber(suffix); !ok || i < 1 || i >= len(values) {
				continue
			}
		}
		value = unquote(value)
		switch {
		case present&(1<<i) == 0:
			present |= 1 << i
			values[i] = value
			total += len(value)
		case value != values[i]:
			return "", "", invalid(0, "two cookies %s with different values", chunkName(b.name, i))
		}
	}
	if present == 0 {
		return "", "", nil
	}
	if present&(present+1) != 0 {
		return "", "", invalid(0, "cookie %s present but a chunk below it missing", chunkName(b.name, bits.Len64(present)-1))
	}
	if total > b.carry.maxLen {
		err := invalid(0, "retired cookie chunks of %d bytes exceed the %d the Manager's cookies hold", total, b.carry.maxLen)
		err.long = total
		return "", "", err
	}
	return strings.Join(values[:bits.Len64(present)], ""), values[0], nil
}

// warnCarryTooLong logs, once per Manager, a retired cookie whose entry
// sets Carry that holds a token longer than the Manager's cookies hold:
// the session would not fit when written under the Manager's Name, so it
// is not carried, and its user signs in again.
func (m *Manager) warnCarryTooLong(s *Session, r *http.Request, b *retiredBase, n int) {
	if m.carryTooLongLogged.Load() || m.carryTooLongLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a retired cookie whose Options.Retired entry sets Carry holds a session longer than the Manager's cookies hold (MaxCookieSize and MaxChunks, less the longer names): it is not carried, and its user gets a new session (logged once)",
		slog.String("cookie", b.name), slog.Int("bytes", n), slog.Int("limit", b.carry.maxLen), slog.String("path", urlPath(r)),
		slog.String("fix", fmt.Sprintf("raise Options.MaxChunks (now %d) so that the sessions the earlier configuration wrote fit under the new Name", len(m.names))))
}

// carriedUnwritten reports whether s was carried from a retired cookie
// (Manager.carry) and its cookie under the Manager's Name is not written
// yet: it opened, beside a retired cookie, from no cookie of the
// Manager's names, and no save has written lines. Nothing else opens a
// session without one of those cookies, and a save sets lines.
func (s *Session) carriedUnwritten() bool {
	return s.retired && s.loaded && s.chunksSent == 0 && s.lines == nil
}

// warnCarriedLive is warnRetiredLive's line for a retired Name whose
// entry sets Carry: the session is carried here, and the instance that
// wrote the cookie, unless it carries the Manager's Name back, signs the
// user out when it next serves them, and loses what they do there
// (TestRollingDeployment, "Name, carried").
func (m *Manager) warnCarriedLive(s *Session, r *http.Request, b *retiredBase) {
	s.log(r.Context(), slog.LevelWarn, "cookiesession: the request carried a cookie that Options.Retired lists with Carry, holding a session that began after this Manager started: another instance writes it (a rolling deployment of a Name change); the session is carried here, and its cookie expired, so an instance that does not read this Manager's Name signs the user out when it next serves them, and what they do there is lost at their next request here, until the rollout ends (logged once)",
		slog.String("cookie", b.name), slog.String("retired", fmt.Sprintf("Options.Retired[%d]", b.entry)), slog.String("path", urlPath(r)),
		slog.String("fix", fmt.Sprintf("finish the rollout; if the instances that write %q do not carry this Manager's cookie back already, give them Retired: []cookiesession.RetiredCookie{{Name: %q, MaxChunks: %d, Carry: true}} and deploy that before this configuration (README, \"Changing cookie settings on a live fleet\")", b.name, m.opts.Name, len(m.names))))
}
