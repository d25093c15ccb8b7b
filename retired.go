package cookiesession

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// Retired cookies: those an earlier configuration wrote under another
// Name, Path, Domain or partitioning, or in more chunks. Browsers keep
// them until they expire, and send them with every request: dead weight
// in the Cookie header, and, under the session's own name, a second
// session that a logout on the new configuration would not end.

// RetiredCookie is a cookie an earlier configuration of the Manager wrote
// (see Options.Retired). Each field means what the Options field of that
// name means, with the same default: RetiredCookie{Path: "/app"} is the
// cookie "session" on Path /app, host-only, in one chunk.
type RetiredCookie struct {
	Name        string // default "session"
	Path        string // default "/"
	Domain      string // default none: host-only
	Partitioned bool
	MaxChunks   int // default 1
}

// retire renders the lines that expire every cookie of opts.Retired that
// is not one of the Manager's own (same name, Path, Domain and
// partitioning), with the Manager's Secure, HttpOnly and SameSite, which
// a browser asks of a line that replaces a cookie (a __Host- name's
// rules). It notes the names the request may carry that the Manager does
// not read, and whether a retired cookie has one of the Manager's names.
func (m *Manager) retire(opts *Options) error {
	for i, rc := range opts.Retired {
		setDefault(&rc.Name, "session")
		setDefault(&rc.Path, "/")
		setDefault(&rc.MaxChunks, 1)
		if err := m.checkRetired(opts, rc); err != nil {
			return fmt.Errorf("cookiesession: Options.Retired[%d]: %w", i, err)
		}
		own := rc.Path == opts.Path && sameDomain(rc.Domain, opts.Domain) && rc.Partitioned == opts.Partitioned
		before := len(m.retiredLines)
		for c := range rc.MaxChunks {
			name := chunkName(rc.Name, c)
			mine := slices.Contains(m.names, name)
			if mine && own {
				continue // the Manager's own cookie: not retired
			}
			expire := m.attrs
			expire.Name, expire.Path, expire.Domain, expire.Partitioned, expire.MaxAge = name, rc.Path, rc.Domain, rc.Partitioned, -1
			m.retiredLines = append(m.retiredLines, expire.String())
			m.retiresOwn = m.retiresOwn || mine
			if !mine && !slices.Contains(m.retiredNames, name) {
				m.retiredNames = append(m.retiredNames, name)
			}
		}
		if len(m.retiredLines) == before {
			return fmt.Errorf("cookiesession: Options.Retired[%d] is the Manager's own cookie %q (same Path, Domain and Partitioned, no more chunks than MaxChunks %d): list the Name, Path, Domain, Partitioned or MaxChunks the earlier configuration had",
				i, rc.Name, opts.MaxChunks)
		}
	}
	m.lineNames = m.names
	if len(m.retiredNames) > 0 {
		m.lineNames = append(slices.Clone(m.names), m.retiredNames...)
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
// dropped by browsers.
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
// its names (shadowed, from readToken).
func (m *Manager) carriesRetired(r *http.Request, shadowed bool) bool {
	if shadowed && m.retiresOwn {
		return true
	}
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line = cutByte(line, ';')
			name, _ := cutByte(textproto.TrimString(part), '=')
			if slices.Contains(m.retiredNames, textproto.TrimString(name)) {
				return true
			}
		}
	}
	return false
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
