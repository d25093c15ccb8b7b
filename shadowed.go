package cookiesession

import (
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// Cookies that compete for the session's names (FORMAT.md section 5,
// step 5): when the token readToken gathered does not open and the
// request carried a second value of one of our names, or several chunks,
// the session is looked for among them, within a bound. A cookie set for
// a parent domain or a longer path (cookie tossing by a sibling host or a
// network attacker, an earlier Domain or Path setting) comes first in the
// Cookie header, and parallel responses can leave a chunk behind.

// maxShadows bounds how many cookies of the base name openShadowed tries
// past the first, and how many of the last it tries too. A browser sends
// at most one cookie of a name per domain and path that match the request
// (the host's own, one per parent domain, one per parent path), longer
// paths first: a sibling host can put one before the session's own for
// each parent path of a deep page (/a, /a/, /a/b, ...), but only one per
// parent domain beside it, after the longer ones. So the session's cookie
// is among the first few or the last few, and a hand-made request with
// thousands of them costs a few opens.
const maxShadows = 4

// maxShadowOpens bounds the tokens openShadowed opens in one request:
// as many as the first 1+maxShadows cookies of the base name joined and
// alone, and the last maxShadows alone.
const maxShadowOpens = 2 * (1 + 2*maxShadows)

// openShadowed runs when the token gathered by readToken (the first
// cookie of each chunk name) did not open, with err, and the request
// carried more than that: a second cookie of one of our names, or several
// chunks. A cookie set for a parent domain or a longer path, by a sibling
// host or a network attacker (cookie tossing), or left by an earlier
// Domain or Path setting, comes before the session's own in the Cookie
// header, and a chunk name the session did not write, or a second value
// of one it did, spoils the join. So it tries, for each candidate of the
// base name in header order (see shadowSet), the chains of chunk
// candidates that follow it (see shadowSearch.chain), and opens the first
// that authenticates, within maxShadowOpens opens: every token is checked
// in full, so this chooses only among tokens this ring sealed for this
// name. If none opens, the error is one that keeps the client's cookie
// (see load) when any of the tokens gave such an error, so a tossed
// cookie cannot get a session from a newer ring cleared; otherwise err.
// tried is the token that gave err ("" if none did), which is not opened
// again; nor is a value alone too short to be a token, nor a chain past
// the codec's limit (it is not even built). A chain too short to be a
// token is opened, to fail as invalid, and counts (see shadowSearch.open).
func (m *Manager) openShadowed(s *Session, r *http.Request, now time.Time, rec *Record, tried string, err error) error {
	sh := &shadowSearch{m: m, now: now, tried: tried, err: err, kept: keepsCookie(err), budget: maxShadowOpens}
	sh.sets = m.shadowSets(r.Header["Cookie"])
	sh.pieces = make([]string, 0, len(m.names))
	for j := range sh.sets[0].len() {
		base := sh.sets[0].at(j)
		if sh.chain(append(sh.pieces[:0], base), len(base)) {
			*rec = sh.rec        // rec itself stays out of the search, which escapes
			m.warnShadowed(s, r) // a chunk the session did not write
			return nil
		}
	}
	return sh.err
}

// shadowSet holds the values of one of our chunk names that
// openShadowed tries, in header order: the first 1+maxShadows, and the
// last maxShadows of the others, the k-th of them at k%maxShadows.
type shadowSet struct {
	first  [1 + maxShadows]string
	last   [maxShadows]string
	nFirst int
	others int
}

func (set *shadowSet) add(value string) {
	if set.nFirst < len(set.first) {
		set.first[set.nFirst] = value
		set.nFirst++
		return
	}
	set.last[set.others%maxShadows] = value
	set.others++
}

// len returns how many values the set holds.
func (set *shadowSet) len() int { return set.nFirst + min(set.others, maxShadows) }

// at returns the set's j-th value in header order.
func (set *shadowSet) at(j int) string {
	if j < set.nFirst {
		return set.first[j]
	}
	return set.last[(max(set.others-maxShadows, 0)+j-set.nFirst)%maxShadows]
}

// shadowSets returns a shadowSet for each of our chunk names, filled from
// the Cookie lines: every value of the base name, and the non-empty values
// of the other chunk names (an empty one adds nothing to a token).
func (m *Manager) shadowSets(lines []string) []shadowSet {
	sets := make([]shadowSet, len(m.names))
	for _, line := range lines {
		for line != "" {
			var part string
			part, line = cutByte(line, ';')
			name, value := cutByte(textproto.TrimString(part), '=')
			value = unquote(value)
			if i := m.chunkIndex(textproto.TrimString(name)); i == 0 || i > 0 && value != "" {
				sets[i].add(value)
			}
		}
	}
	return sets
}

// shadowSearch is openShadowed's state: the tokens it may still open, the
// error it will return, and a scratch buffer the chains are joined in.
type shadowSearch struct {
	m       *Manager
	now     time.Time
	rec     Record
	tried   string
	err     error
	kept    bool
	budget  int
	sets    []shadowSet
	pieces  []string
	scratch []byte
}

// chain tries the tokens that pieces (chunks 0 to len(pieces)-1, size
// bytes in all) begin, and reports whether one opened: first pieces
// followed by each candidate of the next chunk name, in header order, and
// so on, when the last piece fills its chunk (the writer fills every
// chunk but the last); then pieces alone. Junk tossed under a chunk name
// thus neither hides the chunks sent after it nor, sent above the
// session's last chunk, spoils the join.
func (sh *shadowSearch) chain(pieces []string, size int) bool {
	i := len(pieces)
	if i < len(sh.sets) && len(pieces[i-1]) == sh.m.caps[i-1] {
		for j := range sh.sets[i].len() {
			c := sh.sets[i].at(j)
			if sh.budget == 0 {
				return false
			}
			if size+len(c) <= sh.m.codec.maxLen && sh.chain(append(pieces, c), size+len(c)) {
				return true
			}
		}
	}
	return sh.open(pieces, size)
}

// open opens the token pieces make, unless it is the one that gave the
// first error, a value alone too short to open, or past the budget. A
// chain of several values too short to open counts against the budget
// all the same (the codec refuses its length): under a MaxCookieSize
// whose chunks hold a few bytes each, a header of full values under many
// chunk names would otherwise have chain try every combination of them
// without ever spending the budget, nine times more with each name.
func (sh *shadowSearch) open(pieces []string, size int) bool {
	if sh.budget == 0 || (len(pieces) == 1 && (size < minTokenLen || pieces[0] == sh.tried)) {
		return false
	}
	if len(pieces) > 1 && size == len(sh.tried) && joinedIs(pieces, sh.tried) {
		return false
	}
	sh.budget--
	sh.rec = Record{}
	var e error
	if len(pieces) == 1 {
		e = sh.m.codec.open(pieces[0], sh.now, &sh.rec)
	} else {
		if sh.scratch == nil {
			// A chain joins values of distinct cookies: a buffer of the
			// longest token holds any of them.
			sh.scratch = make([]byte, 0, sh.m.codec.maxLen)
		}
		e = sh.m.codec.openJoined(pieces, &sh.scratch, sh.now, &sh.rec)
	}
	if e == nil {
		return true
	}
	if !sh.kept && keepsCookie(e) {
		sh.err, sh.kept = e, true
	}
	return false
}

// joinedIs reports whether pieces joined are token.
func joinedIs(pieces []string, token string) bool {
	for _, p := range pieces {
		if !strings.HasPrefix(token, p) {
			return false
		}
		token = token[len(p):]
	}
	return token == ""
}

// warnShadowed logs, once per Manager, a request that carried two cookies
// of one of the session's names with different values, or whose session
// opened only without a chunk cookie it carried. The browser holds such a
// cookie for a parent domain or a longer path: set by a sibling host or a
// network attacker (cookie tossing: it can sign the user in to the
// attacker's session), or left by an earlier Domain or Path setting. The
// first cookie of the name that opens is taken. A chunk alone is also
// what parallel responses leave (FORMAT.md section 5, step 5), and the
// line says so: the request cannot tell the two apart.
func (m *Manager) warnShadowed(s *Session, r *http.Request) {
	if m.shadowedLogged.Load() || m.shadowedLogged.Swap(true) {
		return
	}
	fix := "if an earlier configuration of this Manager had another Path or Domain, list it in Options.Retired, which expires that cookie; otherwise name the cookie with the __Host- prefix (Options.Name \"__Host-session\"), which no other host and no plain-HTTP page can set, and give every app on the site its own cookie name"
	if m.retiresOwn {
		// Options.Retired lists a cookie of the session's name already.
		fix = "Options.Retired lists an earlier cookie of the session's name, which responses that set the session's cookies expire: while instances of the earlier configuration still serve (a rolling deployment), they write it again, and this ends with the rollout; if it does not, the cookie was set for a Path or Domain that no entry names (a browser's developer tools show them: list it), or by another host (name the cookie with the __Host- prefix)"
	}
	msg := "cookiesession: the request carried two cookies of the session's name with different values: another host of the site, an earlier Domain or Path setting, or an attacker (cookie tossing) set one for a parent domain or a longer path; the first that opens is taken (logged once)"
	if !s.shadowed {
		// Only a chunk beside a session that opened without it: parallel
		// responses leave one too, which the next session written expires.
		msg = "cookiesession: the request carried a chunk cookie its session does not use: parallel responses leave one (a response that shrank the session landed after one that grew it), and the next session written expires it; if it stays, another host of the site, an earlier Domain or Path setting, or an attacker (cookie tossing) set it for a parent domain or a longer path; the session opened without it (logged once)"
	}
	s.log(r.Context(), slog.LevelWarn, msg, slog.String("cookie", m.opts.Name), slog.String("path", urlPath(r)), slog.String("fix", fix))
}
