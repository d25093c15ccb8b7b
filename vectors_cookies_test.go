package cookiesession

// The cookie vectors of testdata/vectors.json: Cookie headers read as
// FORMAT.md section 5 says, above all its step 5 (which cookie of several
// is the session, and which error a request gets when none opens).

import (
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type vecCookies struct {
	Case          string `json:"case"`
	Description   string `json:"description"`
	Key           string `json:"key"`
	KeyID         string `json:"key_id"`
	Name          string `json:"name"`
	Now           int64  `json:"now"`
	MaxAgeSeconds int64  `json:"max_age_seconds"`
	MaxChunks     int    `json:"max_chunks"`
	MaxCookieSize int    `json:"max_cookie_size"`
	Cookie        string `json:"cookie"`
	ID            string `json:"id,omitempty"`
	Error         string `json:"error,omitempty"`
	Keep          bool   `json:"keep,omitempty"` // refused, and the client's cookies are left as they are
}

const (
	vecChunks     = 4
	vecCookieSize = 300 // so a token of 787 characters takes three cookies
)

type vecCookieCase struct {
	name, desc string
	header     func(t *vecCookieTokens) string
	want       string // the label of the token that opens, or
	class      string // the class of the error,
	keep       bool   // and whether the cookies are left as they are
}

// vecCookieTokens are the tokens the cookie cases put in headers.
type vecCookieTokens struct {
	small, forged, unknown, expired, future string
	chunks                                  []string // the chunked token as the writer splits it
}

func newVecCookieTokens(g *vecGen) *vecCookieTokens {
	ts := &vecCookieTokens{small: g.small, forged: g.flip(-1, 0x01)}
	ts.unknown = g.seal("cookies/unknown", vecKey2, vecNow-600, vecNow-600+vecDay, vecNow, []vecKV{{"a", "b"}})
	ts.expired = g.seal("cookies/expired", vecKey1, vecNow-2*vecDay, vecNow-vecDay, vecNow-vecDay-60, []vecKV{{"a", "b"}})
	// Sealed by an instance whose clock is 10 minutes ahead of now.
	ts.future = g.seal("cookies/future", vecKey1, vecNow+600, vecNow+600+vecDay, vecNow+600, []vecKV{{"a", "b"}})
	big := g.seal("cookies/chunked", vecKey1, vecNow-600, vecNow-600+vecDay, vecNow, []vecKV{{"big", strings.Repeat("c", 500)}})
	// Each cookie's name plus value is at most vecCookieSize (section 5).
	for i := 0; big != ""; i++ {
		n := min(len(big), vecCookieSize-len(vecChunkName(i)))
		ts.chunks = append(ts.chunks, big[:n])
		big = big[n:]
	}
	if len(ts.chunks) != 3 {
		g.t.Fatalf("the chunked token takes %d cookies; the cases need 3", len(ts.chunks))
	}
	return ts
}

func vecChunkName(i int) string {
	if i == 0 {
		return vecCookie
	}
	return vecCookie + "." + string(rune('0'+i))
}

// joined is the Cookie header of the chunked session, with before in front.
func (ts *vecCookieTokens) joined(before string) string {
	parts := []string{before}
	for i, c := range ts.chunks {
		parts = append(parts, vecChunkName(i)+"="+c)
	}
	return strings.TrimPrefix(strings.Join(parts, "; "), "; ")
}

// bases is a header of n cookies of the base name, all forged but the one
// at index at, which is the small token.
func (ts *vecCookieTokens) bases(n, at int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "session=" + ts.forged
		if i == at {
			parts[i] = "session=" + ts.small
		}
	}
	return strings.Join(parts, "; ")
}

// fullBases is a header of n forged base cookies, each as long as a full
// first chunk and each different, then the chunked session: step 3 joins
// the first with session.1 and session.2, and step 5 opens, for each forged
// one, it joined with both (but the first, step 4's), with session.1, and
// alone.
func (ts *vecCookieTokens) fullBases(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "session=" + strings.Repeat(string(rune('B'+i)), len(ts.chunks[0]))
	}
	return ts.joined(strings.Join(parts, "; "))
}

func vecCookieCases() []vecCookieCase {
	return []vecCookieCase{
		{name: "chunks", desc: "a token over three cookies, in index order",
			header: func(ts *vecCookieTokens) string { return ts.joined("") }, want: "cookies/chunked"},
		{name: "chunks_any_order", desc: "chunks are joined in index order, not header order",
			header: func(ts *vecCookieTokens) string {
				return "session.2=" + ts.chunks[2] + "; session=" + ts.chunks[0] + "; session.1=" + ts.chunks[1]
			}, want: "cookies/chunked"},
		{name: "empty_chunk", desc: "an empty session.1 is present and adds nothing (step 3)",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.small + "; session.1=" }, want: "small"},
		{name: "tossed_before", desc: "a cookie of the base name that does not open comes first (step 5)",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session=" + ts.small }, want: "small"},
		{name: "tossed_before_chunks", desc: "the second base cookie is joined with the chunks (step 5)",
			header: func(ts *vecCookieTokens) string { return ts.joined("session=" + ts.forged) }, want: "cookies/chunked"},
		{name: "tossed_chunk_before", desc: "a session.1 that is not the session's comes before its own: the chain goes on to the next (step 5)",
			header: func(ts *vecCookieTokens) string { return ts.joined("session.1=AAAA") }, want: "cookies/chunked"},
		{name: "tossed_full_chunk_before", desc: "a session.1 of a full chunk's length comes first: its chains fail, then the session's own opens (step 5)",
			header: func(ts *vecCookieTokens) string {
				return ts.joined("session.1=" + strings.Repeat("A", len(ts.chunks[1])))
			}, want: "cookies/chunked"},
		{name: "tossed_chunk_above", desc: "a session.3 above the session's last chunk spoils the join of step 3; the chain ends at session.2, which does not fill its chunk (step 5)",
			header: func(ts *vecCookieTokens) string { return ts.joined("") + "; session.3=AAAA" }, want: "cookies/chunked"},
		{name: "missing_chunk_then_single", desc: "step 3 refuses a gap (no session.1), then step 5 opens session alone",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.small + "; session.2=" + ts.chunks[2] }, want: "small"},
		{name: "too_long_then_single", desc: "step 3 refuses values over max_token_len (1166), then step 5 opens the second session alone",
			header: func(ts *vecCookieTokens) string {
				return "session=" + strings.Repeat("A", 1100) + "; session=" + ts.small + "; session.1=" + ts.chunks[1]
			}, want: "small"},
		{name: "missing_chunk_error", desc: "none opens and none is unknown_key or skew: the error is step 3's refusal, not the expired token's",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.expired + "; session.2=" + ts.chunks[2] },
			class:  "invalid"},
		{name: "first_error_expired", desc: "none opens: the error is the first token's",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.expired + "; session=" + ts.forged },
			class:  "expired", keep: true},
		{name: "unknown_key_error", desc: "none opens: an unknown key id tried later is the error",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session=" + ts.unknown },
			class:  "unknown_key", keep: true},
		{name: "future_then_unknown", desc: "none opens: step 4's clock-skew refusal comes before an unknown key id tried in step 5, and is the error",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.future + "; session=" + ts.unknown },
			class:  "invalid", keep: true},
		{name: "future_kept", desc: "one cookie created more than 60 s ahead: refused, and kept like an unknown key id",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.future }, class: "invalid", keep: true},
		{name: "beyond_kept", desc: "refused beside a chunk at or above max_chunks, which a reader with a higher MaxChunks may join: kept",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.4=x" }, class: "invalid", keep: true},
		{name: "beyond_run_kept", desc: "refused beside chunks from max_chunks up without a gap, each with base64url text: kept",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.5=y; session.4=\"x\"" }, class: "invalid", keep: true},
		{name: "beyond_mixed_kept", desc: "of two session.4 cookies one holds base64url text: that one counts, the other does not spoil it: kept",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.4=a.b; session.4=x" }, class: "invalid", keep: true},
		{name: "beyond_above_gap_kept", desc: "session.4 starts a run; session.6, above the gap at session.5, does not count and spoils nothing: kept",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.4=x; session.6=y" }, class: "invalid", keep: true},
		{name: "beyond_not_token_cleared", desc: "session.4 holds what no chunk holds (a dot, padding, JSON, nothing): the application's own cookie, refused and cleared",
			header: func(ts *vecCookieTokens) string {
				return "session=" + ts.forged + "; session.4=a.b; session.4=eA==; session.4={\"t\":1}; session.4="
			}, class: "invalid"},
		{name: "beyond_gap_cleared", desc: "session.5 without session.4 lies above a gap, where no earlier configuration leaves a chunk: refused and cleared",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.5=x" }, class: "invalid"},
		{name: "beyond_64_cleared", desc: "session.64 is no chunk name (step 2): refused and cleared",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session.64=x" }, class: "invalid"},
		{name: "repeated_forged", desc: "one value twice is one cookie (step 2): refused and cleared, where two values are kept",
			header: func(ts *vecCookieTokens) string { return "session=" + ts.forged + "; session=" + ts.forged }, class: "invalid"},
		{name: "long_chunk_skipped", desc: "a session.1 too long to join within max_token_len is skipped, and the next session.1 is tried (step 5)",
			header: func(ts *vecCookieTokens) string {
				return ts.joined("") + "; session.1=" + strings.Repeat("A", 900) + "; session.1=" + ts.chunks[1]
			}, want: "cookies/chunked"},
		{name: "eighteenth_open", desc: "step 4's token is not opened again and not counted: the 18th token step 5 opens is the session",
			header: func(ts *vecCookieTokens) string { return ts.fullBases(6) }, want: "cookies/chunked"},
		{name: "nineteenth_open", desc: "step 5 opens at most 18 tokens: the session's would be the 21st",
			header: func(ts *vecCookieTokens) string { return ts.fullBases(7) }, class: "invalid", keep: true},
		{name: "long_base_counts", desc: "a base cookie longer than max_token_len is opened (rule 1 refuses it) and counts among the 18",
			header: func(ts *vecCookieTokens) string {
				long := ""
				for i := range 3 {
					long += "session=" + strings.Repeat(string(rune('a'+i)), 1200) + "; "
				}
				return long + ts.fullBases(5)
			}, class: "invalid", keep: true},
		{name: "fifth_of_twelve", desc: "of twelve base cookies the first five are tried",
			header: func(ts *vecCookieTokens) string { return ts.bases(12, 4) }, want: "small"},
		{name: "sixth_of_twelve", desc: "the sixth of twelve is neither among the first five nor the last four",
			header: func(ts *vecCookieTokens) string { return ts.bases(12, 5) }, class: "invalid", keep: true},
		{name: "ninth_of_twelve", desc: "the ninth of twelve is among the last four",
			header: func(ts *vecCookieTokens) string { return ts.bases(12, 8) }, want: "small"},
	}
}

func vecGenCookies(g *vecGen) []vecCookies {
	ts := newVecCookieTokens(g)
	var out []vecCookies
	for _, c := range vecCookieCases() {
		v := vecCookies{Case: c.name, Description: c.desc, Key: hex.EncodeToString(vecKey1.secret), KeyID: FormatKeyID(vecKey1.id),
			Name: vecCookie, Now: vecNow, MaxAgeSeconds: vecDay, MaxChunks: vecChunks, MaxCookieSize: vecCookieSize,
			Cookie: c.header(ts), Error: c.class, Keep: c.keep}
		if c.want != "" {
			v.ID = hex.EncodeToString(vecBytes("id/fail/"+c.want, idSize))
		}
		out = append(out, v)
	}
	return out
}

// vecCheckCookies reads a cookie vector's header with a Manager.
func vecCheckCookies(t *testing.T, v vecCookies) {
	ring := vecOneKeyRing(t, v.Key, v.KeyID)
	now := time.Unix(v.Now, 0)
	m, err := New(ring, Options{Name: v.Name, MaxAge: time.Duration(v.MaxAgeSeconds) * time.Second, MaxChunks: v.MaxChunks,
		MaxCookieSize: v.MaxCookieSize, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.Header.Set("Cookie", v.Cookie)
	s, err := m.Load(r)
	if v.ID != "" {
		if err != nil || s.ID() != v.ID {
			t.Errorf("Load: session %s, %v; want session %s", s.ID(), err, v.ID)
		}
		return
	}
	want := map[string]error{"invalid": ErrInvalid, "unknown_key": ErrUnknownKey, "expired": ErrExpired}[v.Error]
	if want == nil || !errors.Is(err, want) || (v.Error == "invalid" && errors.Is(err, ErrUnknownKey)) {
		t.Errorf("Load: %v; want class %q", err, v.Error)
	}
	w := httptest.NewRecorder()
	if err := m.Save(w, r, s); err != nil {
		t.Fatal(err)
	}
	if lines := w.Header()["Set-Cookie"]; (len(lines) == 0) != v.Keep {
		t.Errorf("Save wrote %q; want the cookies kept: %v", lines, v.Keep)
	}
}
