package cookiesession_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

func newTestCodec(tb testing.TB, ring *cookiesession.KeyRing, opts cookiesession.CodecOptions) *cookiesession.Codec {
	tb.Helper()
	if opts.Name == "" {
		opts.Name = "session"
	}
	c, err := cookiesession.NewCodec(ring, opts)
	if err != nil {
		tb.Fatalf("NewCodec(%+v): %v", opts, err)
	}
	return c
}

func sealAt(tb testing.TB, c *cookiesession.Codec, rec *cookiesession.Record, now time.Time) string {
	tb.Helper()
	token, err := c.SealAt(rec, now)
	if err != nil {
		tb.Fatalf("SealAt: %v", err)
	}
	return token
}

func openAt(tb testing.TB, c *cookiesession.Codec, token string, now time.Time) cookiesession.Record {
	tb.Helper()
	rec, err := c.OpenAt(token, now)
	if err != nil {
		tb.Fatalf("OpenAt: %v", err)
	}
	return rec
}

// sealedToken returns a codec with one key and a token it sealed at fixedNow.
func sealedToken(t *testing.T) (*cookiesession.Codec, string) {
	t.Helper()
	c := newTestCodec(t, ringOf(t, 0x00ab12cd), cookiesession.CodecOptions{})
	v := valuesOf(t, "user_id", "u_8f3a2c", "role", "admin", "n", 42)
	return c, sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow)
}

func mustDecodeToken(t *testing.T, token string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	return raw
}

// openFails asserts that token is refused as invalid and returns the
// *TokenError.
func openFails(t *testing.T, c *cookiesession.Codec, token string) *cookiesession.TokenError {
	t.Helper()
	_, err := c.OpenAt(token, fixedNow)
	checkErrRules(t, err)
	var te *cookiesession.TokenError
	if !errors.As(err, &te) || !errors.Is(err, cookiesession.ErrInvalid) {
		t.Fatalf("OpenAt(%q) = %v, want a *TokenError matching ErrInvalid", token, err)
	}
	return te
}

// TestOpenRejectsEveryRawBitFlip flips each bit of the decoded token and
// re-encodes it. The header fails on version or key id; every other region
// fails with the one opaque authentication error.
func TestOpenRejectsEveryRawBitFlip(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	for i := range raw {
		for bit := range 8 {
			flipped := append([]byte(nil), raw...)
			flipped[i] ^= 1 << bit
			te := openFails(t, c, base64.RawURLEncoding.EncodeToString(flipped))
			var want string
			switch {
			case i == 0:
				want = "unknown format version"
			case i < 5:
				want = "unknown key id " + hex.EncodeToString(flipped[1:5])
			default:
				want = "authentication failed"
			}
			if !strings.HasPrefix(te.Reason, want) {
				t.Errorf("byte %d bit %d: reason %q, want %q", i, bit, te.Reason, want)
			}
		}
	}
}

// TestOpenRejectsEveryCharBitFlip flips each bit of each token character,
// including flips that leave the alphabet and flips of unused trailing bits.
func TestOpenRejectsEveryCharBitFlip(t *testing.T) {
	c, token := sealedToken(t)
	for i := range len(token) {
		for bit := range 8 {
			b := []byte(token)
			b[i] ^= 1 << bit
			openFails(t, c, string(b))
		}
	}
}

// TestOpenRejectsTruncation cuts the token and its raw bytes at every
// length, from the end and from the front, and appends to both.
func TestOpenRejectsTruncation(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	for n := range len(token) {
		openFails(t, c, token[:n])
		openFails(t, c, token[n+1:])
	}
	for n := range len(raw) {
		openFails(t, c, base64.RawURLEncoding.EncodeToString(raw[:n]))
		openFails(t, c, base64.RawURLEncoding.EncodeToString(raw[n+1:]))
	}
	for _, extra := range []string{"A", "AA", "AAA", "AAAA"} {
		openFails(t, c, token+extra)
	}
	openFails(t, c, base64.RawURLEncoding.EncodeToString(append(raw, 0)))
}

// TestOpenRejectsWrongName checks that a token is bound to its cookie name.
func TestOpenRejectsWrongName(t *testing.T) {
	c, token := sealedToken(t)
	ring := ringOf(t, 0x00ab12cd)
	for _, name := range []string{"session.1", "Session", "session ", "sessio", "__Host-session", "sessionsession"} {
		other := newTestCodec(t, ring, cookiesession.CodecOptions{Name: name})
		if te := openFails(t, other, token); te.Reason != "authentication failed" {
			t.Errorf("name %q: reason %q, want the opaque authentication failure", name, te.Reason)
		}
	}
	if _, err := c.OpenAt(token, fixedNow); err != nil {
		t.Errorf("the right name no longer opens: %v", err)
	}
}

// TestOpenUnknownKey checks a removed key and a key never held: the error
// matches ErrUnknownKey and ErrInvalid, names the id in 8 hex digits and
// sets KeyID.
func TestOpenUnknownKey(t *testing.T) {
	const oldID, newID = 0x00ab12cd, 0x5e6f7a8b
	ring := ringOf(t, oldID, newID)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	token := sealAt(t, c, &cookiesession.Record{Values: valuesOf(t, "a", "b")}, fixedNow)
	if err := ring.Promote(newID); err != nil {
		t.Fatal(err)
	}
	if err := ring.Remove(oldID); err != nil {
		t.Fatal(err)
	}
	foreign := newTestCodec(t, ringOf(t, 0x0000fffe), cookiesession.CodecOptions{})
	foreignToken := sealAt(t, foreign, &cookiesession.Record{}, fixedNow)
	for _, tc := range []struct {
		token string
		id    uint32
	}{{token, oldID}, {foreignToken, 0x0000fffe}} {
		_, err := c.OpenAt(tc.token, fixedNow)
		checkErrRules(t, err)
		if !errors.Is(err, cookiesession.ErrUnknownKey) || !errors.Is(err, cookiesession.ErrInvalid) {
			t.Errorf("err = %v, want ErrUnknownKey and ErrInvalid", err)
		}
		if errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("err = %v also matches ErrExpired", err)
		}
		name := hex.EncodeToString(binary.BigEndian.AppendUint32(nil, tc.id))
		if err == nil || !strings.Contains(err.Error(), "unknown key id "+name) {
			t.Errorf("err = %v, want it to name key id %s", err, name)
		}
		var te *cookiesession.TokenError
		if !errors.As(err, &te) || te.KeyID != tc.id {
			t.Errorf("TokenError = %+v, want KeyID %08x", te, tc.id)
		}
	}
}

// TestOpenExpiry steps the clock over a token's MaxAge deadline.
func TestOpenExpiry(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	deadline := fixedNow.Add(time.Hour)
	for _, step := range []struct {
		at      time.Time
		expired bool
	}{
		{fixedNow, false},
		{fixedNow.Add(-cookiesession.ClockSkew), false}, // a clock running behind
		{deadline.Add(-time.Second), false},
		{deadline.Add(-time.Nanosecond), false},
		{deadline, true},
		{deadline.Add(time.Nanosecond), true},
		{deadline.AddDate(10, 0, 0), true},
	} {
		_, err := c.OpenAt(token, step.at)
		checkErrRules(t, err)
		if got := errors.Is(err, cookiesession.ErrExpired); got != step.expired || (!step.expired && err != nil) {
			t.Errorf("OpenAt(%v) = %v, want expired=%v", step.at, err, step.expired)
			continue
		}
		if step.expired {
			assertExpiredAt(t, err, deadline, 0x1a2b3c4d)
		}
	}
}

func assertExpiredAt(t *testing.T, err error, deadline time.Time, keyID uint32) {
	t.Helper()
	var te *cookiesession.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err %v is not a *TokenError", err)
	}
	if !te.Expired.Equal(deadline) || te.KeyID != keyID {
		t.Errorf("TokenError{Expired: %v, KeyID: %08x}, want %v and %08x", te.Expired, te.KeyID, deadline, keyID)
	}
	if errors.Is(err, cookiesession.ErrInvalid) {
		t.Errorf("expired error %v also matches ErrInvalid", err)
	}
}

// TestCodecShortenedMaxAge opens a token sealed under a long MaxAge
// with a codec whose MaxAge is now shorter: the token's own deadline is not
// trusted past the current policy.
func TestCodecShortenedMaxAge(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	long := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: 24 * time.Hour})
	short := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour})
	token := sealAt(t, long, &cookiesession.Record{}, fixedNow)
	openAt(t, short, token, fixedNow.Add(59*time.Minute))
	_, err := short.OpenAt(token, fixedNow.Add(time.Hour))
	if !errors.Is(err, cookiesession.ErrExpired) {
		t.Fatalf("short codec at fixedNow+1h: %v, want ErrExpired", err)
	}
	assertExpiredAt(t, err, fixedNow.Add(time.Hour), 0x1a2b3c4d)
	if rec := openAt(t, long, token, fixedNow.Add(time.Hour)); !rec.Expires.Equal(fixedNow.Add(24 * time.Hour)) {
		t.Errorf("long codec: Expires %v, want %v", rec.Expires, fixedNow.Add(24*time.Hour))
	}
}

// TestOpenCreatedInFuture checks the ClockSkew bound on a token's creation
// time, with the boundary rows.
func TestOpenCreatedInFuture(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, row := range []struct {
		ahead time.Duration
		ok    bool
	}{
		{0, true},
		{time.Second, true},
		{cookiesession.ClockSkew, true},
		{cookiesession.ClockSkew + time.Second, false},
		{time.Hour, false},
		{100 * 365 * 24 * time.Hour, false},
	} {
		// Sealed by an instance whose clock runs ahead: SealAt refuses
		// to seal beyond the skew of its own now.
		rec := &cookiesession.Record{Created: fixedNow.Add(row.ahead)}
		token := sealAt(t, c, rec, rec.Created)
		_, err := c.OpenAt(token, fixedNow)
		checkErrRules(t, err)
		if row.ok != (err == nil) {
			t.Errorf("created %v ahead: err %v, want ok=%v", row.ahead, err, row.ok)
		}
		if !row.ok && (!errors.Is(err, cookiesession.ErrInvalid) || errors.Is(err, cookiesession.ErrExpired)) {
			t.Errorf("created %v ahead: err %v, want ErrInvalid only", row.ahead, err)
		}
	}
}

// TestOpenLengthLimitBeforeDecoding checks that an over-long token is
// refused for its length, whatever it contains.
func TestOpenLengthLimitBeforeDecoding(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxTokenLen: 200})
	for _, token := range []string{
		strings.Repeat("!", 201),
		strings.Repeat("A", 201),
		strings.Repeat("\x00", 1<<20),
	} {
		te := openFails(t, c, token)
		if !strings.Contains(te.Reason, "exceeds the limit of 200") {
			t.Errorf("len %d: reason %q, want the length limit", len(token), te.Reason)
		}
	}
	te := openFails(t, c, strings.Repeat("!", 200))
	if strings.Contains(te.Reason, "exceeds") {
		t.Errorf("a token of exactly MaxTokenLen was refused for its length: %q", te.Reason)
	}
}

// tokenWithTrailingBits seals tokens of growing size until one has unused
// bits in its last character, so non-canonical encodings can be built.
func tokenWithTrailingBits(t *testing.T, c *cookiesession.Codec, mod int) string {
	t.Helper()
	for n := range 3 {
		v := valuesOf(t, "pad", strings.Repeat("x", n))
		token := sealAt(t, c, &cookiesession.Record{Values: v}, fixedNow)
		if len(token)%4 == mod {
			return token
		}
	}
	t.Fatalf("no token with length %% 4 == %d", mod)
	return ""
}

// TestOpenRejectsNonCanonicalEncoding is the hostile table for the base64
// layer: padding, whitespace, the standard alphabet and unused bits.
func TestOpenRejectsNonCanonicalEncoding(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	for _, mod := range []int{2, 3} {
		token := tokenWithTrailingBits(t, c, mod)
		openAt(t, c, token, fixedNow)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, token[len(token)-1])
		mid := len(token) / 2
		rows := map[string]string{
			"one pad":          token + "=",
			"two pads":         token + "==",
			"leading space":    " " + token,
			"trailing space":   token + " ",
			"trailing newline": token + "\n",
			"crlf inside":      token[:mid] + "\r\n" + token[mid:],
			"newline inside":   token[:mid] + "\n" + token[mid:],
			"tab inside":       token[:mid] + "\t" + token[mid:],
			"nul inside":       token[:mid] + "\x00" + token[mid:],
			"quoted":           `"` + token + `"`,
			"std alphabet":     strings.NewReplacer("-", "+", "_", "/").Replace(token + "-_"),
			"unused bit set":   token[:len(token)-1] + string(alphabet[last^1]),
			"percent encoded":  token[:mid] + "%41" + token[mid:],
			"empty":            "",
			"non-ascii":        token[:mid] + "é" + token[mid:],
			"version 2":        withVersion(t, token, 2),
			"version 0":        withVersion(t, token, 0),
		}
		for name, refused := range rows {
			if refused == token {
				t.Fatalf("%s: row equals the genuine token", name)
			}
			t.Run(name, func(t *testing.T) { openFails(t, c, refused) })
		}
		// Every other last character: the ones that differ only in the
		// unused bits would decode to the same bytes without Strict.
		for i := range len(alphabet) {
			if i != last {
				openFails(t, c, token[:len(token)-1]+alphabet[i:i+1])
			}
		}
	}
}

func withVersion(t *testing.T, token string, version byte) string {
	raw := mustDecodeToken(t, token)
	raw[0] = version
	return base64.RawURLEncoding.EncodeToString(raw)
}

// TestSealTooLarge checks the MaxTokenLen boundary on the sealing side and
// that TokenLen predicts the token's exact length.
func TestSealTooLarge(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	v := valuesOf(t, "blob", strings.Repeat("z", 1000))
	probe := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: 8192})
	limit := probe.TokenLen(&cookiesession.Record{Values: v})

	exact := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: limit})
	token := sealAt(t, exact, &cookiesession.Record{Values: v}, fixedNow)
	if len(token) != limit {
		t.Errorf("len(token) = %d, TokenLen said %d", len(token), limit)
	}
	openAt(t, exact, token, fixedNow)

	tight := newTestCodec(t, ring, cookiesession.CodecOptions{MaxTokenLen: limit - 1})
	_, err := tight.SealAt(&cookiesession.Record{Values: v}, fixedNow)
	checkErrRules(t, err)
	if !errors.Is(err, cookiesession.ErrTooLarge) {
		t.Errorf("SealAt over the limit = %v, want ErrTooLarge", err)
	}
	openFails(t, tight, token)
}

// TestTokenSizeTargets checks two size targets: the small fixture (a user
// id, a role and a CSRF token) seals to at most 210 characters, and 2,900
// bytes of values fit in one default 4096-byte token.
func TestTokenSizeTargets(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	small := valuesOf(t, "user_id", "u_8f3a2c", "role", "admin", "csrf", strings.Repeat("c", 32))
	if n := c.TokenLen(&cookiesession.Record{Values: small}); n > 210 {
		t.Errorf("small fixture token is %d characters, want <= 210", n)
	}
	big := valuesOf(t, "blob", strings.Repeat("b", 2900-len("blob")-5))
	if n := len(big.AppendEncoded(nil)); n < 2900 {
		t.Fatalf("fixture is %d bytes, want >= 2900", n)
	}
	sealAt(t, c, &cookiesession.Record{Values: big}, fixedNow)
}

// TestIdleTimeoutExpiry checks expires = min(created+MaxAge,
// sealedAt+IdleTimeout), through Expiry and through a sealed token.
func TestIdleTimeoutExpiry(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: 8 * time.Hour, IdleTimeout: time.Hour})
	for _, row := range []struct {
		sealedAfter time.Duration
		want        time.Duration
	}{
		{0, time.Hour},
		{500 * time.Millisecond, time.Hour},
		{3 * time.Hour, 4 * time.Hour},
		{7 * time.Hour, 8 * time.Hour},
		{7*time.Hour + 30*time.Minute, 8 * time.Hour},
	} {
		sealedAt := fixedNow.Add(row.sealedAfter)
		want := fixedNow.Add(row.want)
		if got := c.Expiry(fixedNow, sealedAt); !got.Equal(want) {
			t.Errorf("Expiry(fixedNow, fixedNow+%v) = %v, want %v", row.sealedAfter, got, want)
		}
		token := sealAt(t, c, &cookiesession.Record{Created: fixedNow}, sealedAt)
		rec := openAt(t, c, token, want.Add(-time.Second))
		if !rec.Expires.Equal(want) || !rec.Created.Equal(fixedNow) {
			t.Errorf("sealed at fixedNow+%v: Created %v Expires %v, want %v and %v", row.sealedAfter, rec.Created, rec.Expires, fixedNow, want)
		}
		if _, err := c.OpenAt(token, want); !errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("sealed at fixedNow+%v, opened at its deadline: %v, want ErrExpired", row.sealedAfter, err)
		}
	}
	// The shortest idle timeout, one second, ends the token a second after
	// it was sealed.
	short := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour, IdleTimeout: time.Second})
	if got := short.Expiry(fixedNow, fixedNow); !got.Equal(fixedNow.Add(time.Second)) {
		t.Errorf("IdleTimeout 1s: Expiry = %v, want fixedNow+1s", got)
	}
}

// TestSealFillsRecord checks the fields Seal fills in on a zero Record.
func TestSealFillsRecord(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: 2 * time.Hour})
	now := fixedNow.Add(1500 * time.Millisecond)
	var rec cookiesession.Record
	token := sealAt(t, c, &rec, now)
	want := fixedNow.Add(time.Second)
	if rec.ID == (cookiesession.SessionID{}) || len(rec.ID.String()) != 32 {
		t.Errorf("ID = %v, want a random 32-hex id", rec.ID)
	}
	if !rec.Created.Equal(want) || !rec.Expires.Equal(want.Add(time.Hour)) || rec.KeyID != 0x1a2b3c4d {
		t.Errorf("filled %+v, want Created %v, Expires +1h, KeyID 1a2b3c4d", rec, want)
	}
	opened := openAt(t, c, token, now)
	if opened.ID != rec.ID || !opened.Created.Equal(rec.Created) || !opened.Expires.Equal(rec.Expires) || opened.KeyID != rec.KeyID {
		t.Errorf("opened %+v, sealed %+v", opened, rec)
	}
	var other cookiesession.Record
	sealAt(t, c, &other, now)
	if other.ID == rec.ID {
		t.Errorf("two sessions got the same id %v", rec.ID)
	}
	if t2 := sealAt(t, c, &rec, now); t2 == token {
		t.Errorf("re-sealing gave the same token: the nonce was not fresh")
	}
	// Set fields are cut to whole seconds in the Record, as the token
	// carries them, down to a single nanosecond.
	set := cookiesession.Record{Created: fixedNow.Add(time.Nanosecond), Expires: fixedNow.Add(time.Minute + time.Nanosecond),
		Lifetime: cookiesession.Lifetime{MaxAge: 2*time.Hour + time.Nanosecond, IdleTimeout: time.Hour + time.Nanosecond}}
	sealAt(t, c, &set, now)
	if !set.Created.Equal(fixedNow) || !set.Expires.Equal(fixedNow.Add(time.Minute)) ||
		set.Lifetime != (cookiesession.Lifetime{MaxAge: 2 * time.Hour, IdleTimeout: time.Hour}) {
		t.Errorf("sealed Created %v, Expires %v, Lifetime %+v; want them in whole seconds", set.Created, set.Expires, set.Lifetime)
	}
}

// TestSealRefusesBadRecords covers records Seal must not produce tokens for.
func TestSealRefusesBadRecords(t *testing.T) {
	// The longest MaxAge a token carries, 2^32-1 s (136 years), keeps a
	// session created in 1970 running: before 1970 is refused as such, not
	// as expired, and 1970 itself seals and opens.
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: (1<<32 - 1) * time.Second})
	_, err := c.SealAt(&cookiesession.Record{Created: time.Unix(-1, 0)}, fixedNow)
	checkErrRules(t, err)
	if err == nil || errors.Is(err, cookiesession.ErrExpired) || !strings.Contains(err.Error(), "created before 1970") {
		t.Errorf("sealing a session created before 1970: %v, want an error saying so", err)
	}
	if rec := openAt(t, c, sealAt(t, c, &cookiesession.Record{Created: time.Unix(0, 0)}, fixedNow), fixedNow); rec.Created.Unix() != 0 {
		t.Errorf("a session created at the epoch opened with Created %v", rec.Created)
	}
	_, err = c.SealAt(&cookiesession.Record{Created: fixedNow.Add(-time.Hour), Expires: fixedNow}, fixedNow)
	checkErrRules(t, err)
	if !errors.Is(err, cookiesession.ErrExpired) {
		t.Errorf("sealing an expired record = %v, want ErrExpired", err)
	}
}

// TestSealRefusesUnopenableTimes: a time that OpenAt refuses at the seal's
// own now (above 2^62, or created beyond the clock skew) is refused by
// SealAt and Seal, not sealed into a token that never opens; the edges
// themselves seal and open.
func TestSealRefusesUnopenableTimes(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	const max = 1 << 62
	for _, row := range []struct {
		name string
		rec  cookiesession.Record
		want string // a substring of the error; "" if it must seal and open
	}{
		{"expires above 2^62", cookiesession.Record{Expires: time.Unix(max+1, 0)}, "Expires 4611686018427387905"},
		{"created above 2^62", cookiesession.Record{Created: time.Unix(max+1, 0), Expires: time.Unix(max, 0)},
			"Created 4611686018427387905"},
		{"created above 2^62, expires filled in", cookiesession.Record{Created: time.Unix(max+1, 0)}, "times above 2^62"},
		{"created 61 s ahead", cookiesession.Record{Created: fixedNow.Add(61 * time.Second)},
			"session created in the future at 2026-05-01T12:01:01Z, more than 60 s after now"},
		{"created an hour ahead, expires set", cookiesession.Record{Created: fixedNow.Add(time.Hour), Expires: fixedNow.Add(2 * time.Hour)},
			"session created in the future"},
		// An opened record's (KeyID set): a new one's Expires past MaxAge is refused.
		{"expires at 2^62", cookiesession.Record{Expires: time.Unix(max, 0), KeyID: 0x1a2b3c4d}, ""},
		{"created 60 s ahead", cookiesession.Record{Created: fixedNow.Add(60 * time.Second)}, ""},
		{"created 60.9 s ahead: whole seconds", cookiesession.Record{Created: fixedNow.Add(60*time.Second + 900*time.Millisecond)}, ""},
	} {
		_, err := sealAtWant(t, c, row.name, row.rec, row.want)
		if row.want == "" {
			continue
		}
		// The record is wrong, not the token or the session's age: no
		// sentinel a caller would act on as a bad cookie or an expiry.
		for _, sentinel := range []error{cookiesession.ErrInvalid, cookiesession.ErrExpired, cookiesession.ErrTooLarge} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s: %v matches %v", row.name, err, sentinel)
			}
		}
	}
	// 2^62 itself is in range for Created too, seen from a now that it
	// does not lie beyond by more than the clock skew.
	edge, last := cookiesession.Record{Created: time.Unix(max, 0), Expires: time.Unix(max, 0)}, time.Unix(max-1, 0)
	if rec := openAt(t, c, sealAt(t, c, &edge, last), last); rec.Created.Unix() != max {
		t.Errorf("created at 2^62: opened with Created %d", rec.Created.Unix())
	}
	for _, rec := range []cookiesession.Record{
		{Created: time.Now().Add(time.Hour)},
		{Expires: time.Unix(max+1, 0)},
	} {
		if token, err := c.Seal(&rec); err == nil {
			t.Errorf("Seal(created %v, expires %v) = %q, want an error", rec.Created, rec.Expires, token)
		}
	}
}

// TestResealKeepsIdentity re-seals an opened record under a newly promoted
// key, as the middleware does for old-key tokens.
func TestResealKeepsIdentity(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour, IdleTimeout: 10 * time.Minute})
	first := openAt(t, c, sealAt(t, c, &cookiesession.Record{Values: valuesOf(t, "k", "v")}, fixedNow), fixedNow)
	if err := ring.Promote(0x5e6f7a8b); err != nil {
		t.Fatal(err)
	}
	later := fixedNow.Add(5 * time.Minute)
	resealed := first
	again := openAt(t, c, sealAt(t, c, &resealed, later), later)
	if again.ID != first.ID || !again.Created.Equal(first.Created) || !again.Expires.Equal(first.Expires) {
		t.Errorf("re-seal changed identity: %+v, was %+v", again, first)
	}
	if again.KeyID != 0x5e6f7a8b || first.KeyID != 0x1a2b3c4d {
		t.Errorf("KeyID %08x then %08x, want 1a2b3c4d then 5e6f7a8b", first.KeyID, again.KeyID)
	}
	if got, _ := again.Values.Get("k"); got != "v" {
		t.Errorf("values lost in re-seal: %#v", got)
	}
}

// TestSealRefusesRecordPastMaxAge seals records whose Expires is set but
// whose Created+MaxAge has passed, as a job re-sealing an old record
// would: Open refuses such a token at once, so Seal must say ErrExpired,
// not hand back a token that never opens.
func TestSealRefusesRecordPastMaxAge(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: 24 * time.Hour})
	for _, row := range []struct {
		name     string
		rec      cookiesession.Record
		deadline time.Time // zero: the token seals and opens
	}{
		{"created 2h ago", cookiesession.Record{Created: fixedNow.Add(-2 * time.Hour), Expires: fixedNow.Add(time.Hour)},
			fixedNow.Add(-time.Hour)},
		{"created exactly MaxAge ago", cookiesession.Record{Created: fixedNow.Add(-time.Hour), Expires: fixedNow.Add(time.Minute)},
			fixedNow},
		{"own Lifetime still running", cookiesession.Record{Created: fixedNow.Add(-2 * time.Hour), Expires: fixedNow.Add(time.Hour),
			Lifetime: cookiesession.Lifetime{MaxAge: 3 * time.Hour}}, time.Time{}},
		{"opened, Expires past Created+MaxAge, still running", cookiesession.Record{Created: fixedNow.Add(-time.Minute),
			Expires: fixedNow.Add(30 * 24 * time.Hour), KeyID: 0x1a2b3c4d}, time.Time{}},
	} {
		rec := row.rec
		token, err := c.SealAt(&rec, fixedNow)
		if row.deadline.IsZero() {
			if err != nil {
				t.Errorf("%s: SealAt: %v", row.name, err)
			} else if _, err := c.OpenAt(token, fixedNow); err != nil {
				t.Errorf("%s: the sealed token does not open: %v", row.name, err)
			}
			continue
		}
		if !errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("%s: SealAt = %q, %v; want ErrExpired", row.name, token, err)
			continue
		}
		assertExpiredAt(t, err, row.deadline, 0)
	}
}

// TestOpenNamesEncodingMistake: a token carried in a header, a URL, a
// file or an environment variable comes back padded, re-encoded, escaped,
// quoted, with a prefix, a line break or cut short. Each is refused as
// ErrInvalid with the mistake and its fix named, where the refusal said
// only "illegal base64 data at input byte N".
func TestOpenNamesEncodingMistake(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{})
	var rec cookiesession.Record
	if err := rec.Values.Set("user", "ada"); err != nil {
		t.Fatal(err)
	}
	token := sealAt(t, c, &rec, fixedNow)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	std := base64.RawStdEncoding.EncodeToString(raw)
	for !strings.ContainsAny(std, "+/") { // a token with neither '-' nor '_' is its own standard form
		raw[len(raw)-1]++
		std = base64.RawStdEncoding.EncodeToString(raw)
	}
	// Cut short to 4k+1 characters, a length no token has: other lengths
	// may decode, and fail authentication.
	for _, row := range []struct{ name, token, want string }{
		{"padded", token + strings.Repeat("=", (4-len(token)%4)%4+4), "is padding, which a token never has (unpadded base64url): remove it"},
		{"padding escaped", token + "%3D", "byte '%' begins a percent-escape, which a token never needs: unescape it once"},
		{"standard alphabet", std, "is standard base64, which a token is not (it has '-' and '_')"},
		{"Bearer prefix", "Bearer " + token, "at input byte 6: byte ' ' is not base64url: pass only the token, without quotes, spaces or a prefix"},
		{"quoted", `"` + token + `"`, `byte '"' is not base64url: pass only the token`},
		{"no-break space", token + "\u00a0", "a byte outside ASCII is not base64url: pass only the token"},
		{"cut short", token[:len(token)-1-(len(token)+2)%4], "cannot end a token: it was cut short or its last character altered"},
		{"line break", token + "\n", "byte 0x0a at offset " + strconv.Itoa(len(token)) + " is not base64url: a line break"},
	} {
		_, err := c.OpenAt(row.token, fixedNow)
		checkErrRules(t, err)
		if !errors.Is(err, cookiesession.ErrInvalid) || !strings.Contains(err.Error(), row.want) {
			t.Errorf("%s: OpenAt: %v; want ErrInvalid with %q", row.name, err, row.want)
		}
	}
}

// TestSealRefusesWhatOpenWouldCut: a new record whose Lifetime is longer
// than MaxLifetime, or whose Expires is after Created plus the MaxAge that
// applies, asks for a token that Open ends sooner (a 30-day magic link
// that dies in a day). SealAt says so, naming the option; the same record
// opened (KeyID set) is sealed as Open read it, cut, as the Manager does.
func TestSealRefusesWhatOpenWouldCut(t *testing.T) {
	day := 24 * time.Hour
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: day, MaxLifetime: 7 * day})
	for _, row := range []struct {
		name string
		rec  cookiesession.Record
		want string // a substring of the error; "" if it must seal and open
	}{
		{"Lifetime.MaxAge over MaxLifetime", cookiesession.Record{Lifetime: cookiesession.Lifetime{MaxAge: 30 * day}},
			"Record.Lifetime.MaxAge 720h0m0s is longer than the codec's MaxLifetime 168h0m0s"},
		{"Lifetime.IdleTimeout over MaxLifetime", cookiesession.Record{Lifetime: cookiesession.Lifetime{MaxAge: 7 * day, IdleTimeout: 8 * day}},
			"raise CodecOptions.MaxLifetime (by default MaxAge) to at least 192h0m0s"},
		{"Expires past MaxAge", cookiesession.Record{Expires: fixedNow.Add(30 * day)},
			"Record.Expires 2026-05-31T12:00:00Z is after Created plus the session's MaxAge of 24h0m0s (2026-05-02T12:00:00Z), when Open ends the token; " +
				"set Record.Lifetime.MaxAge (or CodecOptions.MaxAge) to at least 720h0m0s and CodecOptions.MaxLifetime (now 168h0m0s) with it, or leave Expires zero"},
		{"Expires past MaxAge, within MaxLifetime", cookiesession.Record{Expires: fixedNow.Add(3 * day)},
			"set Record.Lifetime.MaxAge (or CodecOptions.MaxAge) to at least 72h0m0s, or leave Expires zero for that end"},
		{"Expires past the Lifetime's MaxAge", cookiesession.Record{Created: fixedNow.Add(-day), Expires: fixedNow.Add(3 * day),
			Lifetime: cookiesession.Lifetime{MaxAge: 2 * day}}, "MaxAge of 48h0m0s (2026-05-02T12:00:00Z), when Open ends the token; raise Record.Lifetime.MaxAge to at least 96h0m0s, or"},
		{"Lifetime at MaxLifetime", cookiesession.Record{Lifetime: cookiesession.Lifetime{MaxAge: 7 * day}}, ""},
		{"Expires at Created+MaxAge", cookiesession.Record{Created: fixedNow.Add(-time.Hour), Expires: fixedNow.Add(day - time.Hour)}, ""},
		{"Expires within the Lifetime", cookiesession.Record{Expires: fixedNow.Add(5 * day), Lifetime: cookiesession.Lifetime{MaxAge: 7 * day}}, ""},
		{"opened: Lifetime cut", cookiesession.Record{Lifetime: cookiesession.Lifetime{MaxAge: 30 * day}, KeyID: 0x1a2b3c4d}, ""},
		{"opened: Expires cut", cookiesession.Record{Expires: fixedNow.Add(30 * day), KeyID: 0x1a2b3c4d}, ""},
	} {
		rec, err := sealAtWant(t, c, row.name, row.rec, row.want)
		if row.want == "" {
			continue
		}
		if errors.Is(err, cookiesession.ErrExpired) || errors.Is(err, cookiesession.ErrInvalid) || rec.KeyID != 0 {
			t.Errorf("%s: %v, KeyID %x: want a plain error and the record left new", row.name, err, rec.KeyID)
		}
	}
}

// TestNewCodecOptions is the hostile table for NewCodec.
func TestNewCodecOptions(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	for name, row := range map[string]struct {
		opts cookiesession.CodecOptions
		says string // what the error names, where one row needs it
	}{
		"no name":               {cookiesession.CodecOptions{}, ""},
		"negative MaxAge":       {cookiesession.CodecOptions{Name: "s", MaxAge: -time.Second}, "MaxAge -1s is negative"},
		"negative idle":         {cookiesession.CodecOptions{Name: "s", IdleTimeout: -time.Second}, "IdleTimeout -1s is negative"},
		"negative MaxLifetime":  {cookiesession.CodecOptions{Name: "s", MaxLifetime: -time.Second}, "MaxLifetime -1s is negative"},
		"negative len":          {cookiesession.CodecOptions{Name: "s", MaxTokenLen: -1}, "MaxTokenLen -1 is negative"},
		"sub-second age":        {cookiesession.CodecOptions{Name: "s", MaxAge: time.Millisecond}, "MaxAge 1ms is under a second"},
		"sub-second idle":       {cookiesession.CodecOptions{Name: "s", IdleTimeout: time.Millisecond}, "IdleTimeout 1ms is under a second"},
		"nanosecond idle":       {cookiesession.CodecOptions{Name: "s", IdleTimeout: time.Nanosecond}, "IdleTimeout 1ns is under a second"},
		"len below a seal":      {cookiesession.CodecOptions{Name: "s", MaxTokenLen: cookiesession.MinTokenLen - 1}, ""},
		"age past 2^32-1s":      {cookiesession.CodecOptions{Name: "s", MaxAge: 1 << 32 * time.Second}, "MaxAge 1193046h28m16s is longer than a token carries"},
		"lifetime past 2^32-1s": {cookiesession.CodecOptions{Name: "s", MaxLifetime: 1 << 32 * time.Second}, "MaxLifetime 1193046h28m16s is longer"},
	} {
		_, err := cookiesession.NewCodec(ring, row.opts)
		checkErrRules(t, err)
		if err == nil {
			t.Errorf("%s: NewCodec(%+v) succeeded", name, row.opts)
		} else if !strings.Contains(err.Error(), row.says) {
			t.Errorf("%s: %v, want it to say %q", name, err, row.says)
		}
	}
	if _, err := cookiesession.NewCodec(nil, cookiesession.CodecOptions{Name: "s"}); err == nil {
		t.Errorf("NewCodec(nil ring) succeeded")
	}
	if _, err := cookiesession.NewCodec(&cookiesession.KeyRing{}, cookiesession.CodecOptions{Name: "s"}); err == nil {
		t.Errorf("NewCodec(zero KeyRing) succeeded")
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{Name: "s", MaxTokenLen: cookiesession.MinTokenLen})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	if len(token) != cookiesession.MinTokenLen || c.Name() != "s" {
		t.Errorf("empty session token is %d long, MinTokenLen %d", len(token), cookiesession.MinTokenLen)
	}
}

// TestNewCodecRefusesLimitsThatCut: CodecOptions{MaxAge: 7 days,
// MaxLifetime: 24h} made tokens that Open ended after a day, and an
// IdleTimeout at or past MaxAge (MaxLifetime, when set) never acted, with
// no word from NewCodec where New refuses the same Options. NewCodec now
// refuses them, naming the fix; the limits that act are accepted.
func TestNewCodecRefusesLimitsThatCut(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	day := 24 * time.Hour
	for _, row := range []struct {
		opts cookiesession.CodecOptions
		says string // "" if accepted
	}{
		{cookiesession.CodecOptions{MaxAge: 7 * day, MaxLifetime: day}, "MaxLifetime 24h0m0s is below MaxAge 168h0m0s, and would cut every token to it"},
		{cookiesession.CodecOptions{IdleTimeout: day}, "IdleTimeout 24h0m0s is not shorter than MaxAge 24h0m0s, the longest a token lives"},
		{cookiesession.CodecOptions{MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, "IdleTimeout 2h0m0s is not shorter than MaxAge 1h0m0s, the longest a token lives, which would end it first however recently it was sealed; raise MaxAge above it, or leave IdleTimeout 0 for MaxAge alone"},
		{cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: day, IdleTimeout: day}, "not shorter than MaxLifetime 24h0m0s, the longest a token lives, which would end it first however recently it was sealed; raise MaxLifetime above it, or shorten IdleTimeout"},
		{cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: day, IdleTimeout: 2 * time.Hour}, ""},
		{cookiesession.CodecOptions{MaxAge: day, MaxLifetime: day, IdleTimeout: time.Hour}, ""},
		{cookiesession.CodecOptions{MaxAge: day + 500*time.Millisecond, MaxLifetime: day}, ""}, // whole seconds
	} {
		row.opts.Name = "s"
		_, err := cookiesession.NewCodec(ring, row.opts)
		checkErrRules(t, err)
		if row.says == "" && err != nil {
			t.Errorf("NewCodec(%+v): %v", row.opts, err)
		} else if row.says != "" && (err == nil || !strings.Contains(err.Error(), row.says)) {
			t.Errorf("NewCodec(%+v): %v, want an error with %q", row.opts, err, row.says)
		}
	}
}

// TestTokenErrorFields checks the *TokenError fields for each stage.
func TestTokenErrorFields(t *testing.T) {
	c, token := sealedToken(t)
	raw := mustDecodeToken(t, token)
	raw[len(raw)-1] ^= 1
	for _, row := range []struct {
		name  string
		token string
		keyID uint32
	}{
		{"bad encoding", "!" + token[1:], 0},
		{"too short", token[:cookiesession.MinTokenLen-1], 0},
		{"forged tag", base64.RawURLEncoding.EncodeToString(raw), 0x00ab12cd},
	} {
		te := openFails(t, c, row.token)
		if te.KeyID != row.keyID || te.Reason == "" || te.Error() != "cookiesession: "+te.Reason {
			t.Errorf("%s: %+v, want KeyID %08x and a reason", row.name, te, row.keyID)
		}
	}
}

// TestSealExpiredNamesTheCause: a record past its age limit whose Expires
// Seal filled in itself is refused for the age limit, not for "the
// record's Expires", which the caller never set.
func TestSealExpiredNamesTheCause(t *testing.T) {
	c := newTestCodec(t, ringOf(t, 0x1a2b3c4d), cookiesession.CodecOptions{MaxAge: time.Hour})
	for _, row := range []struct {
		name   string
		rec    cookiesession.Record
		reason string
	}{
		{"created 2h ago, no Expires", cookiesession.Record{Created: fixedNow.Add(-2 * time.Hour)},
			"session expired at " + fixedNow.Add(-time.Hour).UTC().Format(time.RFC3339) + " (MaxAge 1h0m0s since creation)"},
		{"Expires set and past", cookiesession.Record{Created: fixedNow.Add(-10 * time.Minute), Expires: fixedNow.Add(-time.Minute)},
			"session expired at " + fixedNow.Add(-time.Minute).UTC().Format(time.RFC3339) + " (the record's Expires)"},
	} {
		rec := row.rec
		_, err := c.SealAt(&rec, fixedNow)
		var te *cookiesession.TokenError
		if !errors.As(err, &te) || !errors.Is(err, cookiesession.ErrExpired) {
			t.Errorf("%s: SealAt: %v, want an expired *TokenError", row.name, err)
			continue
		}
		if te.Reason != row.reason || te.KeyID != 0 {
			t.Errorf("%s: Reason %q, KeyID %08x; want %q and no key: nothing was sealed", row.name, te.Reason, te.KeyID, row.reason)
		}
	}
}
