package cookiesession_test

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// The fingerprints below are SHA-256("cookiesession key fingerprint
// v1\x00" || secret)[:6] in hex (FORMAT.md section 6), computed apart
// from the package: keySecret(keyA) and keySecret(otherSecret).
const (
	fingerprintA     = "a29385f00e67"
	otherSecret      = 0x0badbeef
	fingerprintOther = "c212aafffa4a"
	splitSecretMsg   = "may hold different secrets under that id"
)

// TestFingerprintVector checks the fingerprint against values computed
// apart from the package, and that neither it nor what shows it (String,
// the JSON of Keys and Metrics) shows the secret.
func TestFingerprintVector(t *testing.T) {
	ring := ringOf(t, keyA, keyB)
	other := keyWithSecretOf(t, keyA, otherSecret)
	otherRing, err := cookiesession.NewKeyRing(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ring *cookiesession.KeyRing
		want string
	}{
		{ring, fingerprintA},
		{otherRing, fingerprintOther},
	} {
		if got := c.ring.Keys()[0].Fingerprint; got != c.want {
			t.Errorf("fingerprint of %s: %s, want %s", c.ring, got, c.want)
		}
	}
	if got := ring.Keys()[1].Fingerprint; got != "23d79fe23408" { // keySecret(keyB)
		t.Errorf("fingerprint of key %08x: %s", keyB, got)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"String": ring.String() + otherRing.String(), "Metrics": m.Var().String()} {
		if !strings.Contains(text, fingerprintA) {
			t.Errorf("%s lacks the fingerprint %s: %s", what, fingerprintA, text)
		}
		assertNoSecret(t, what, text)
	}
}

// keyWithSecretOf returns a key with id and the secret of the test key
// secretOf, which assertNoSecret then looks for.
func keyWithSecretOf(t *testing.T, id, secretOf uint32) cookiesession.Key {
	t.Helper()
	keyForID(t, secretOf) // records the secret for assertNoSecret
	k, err := cookiesession.NewKey(id, keySecret(secretOf))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSplitSecretWarns: two instances hold different secrets under one key
// id and serve one client in turn, which signs in again at each, as the
// session it brings fails authentication. Each logs the Warn with its own
// fingerprint, at most once a minute; a fleet with one secret logs none.
func TestSplitSecretWarns(t *testing.T) {
	signIn := func(w http.ResponseWriter, r *http.Request) {
		if s := sessionOf(t, r); s.GetString("user") == "" {
			if err := s.Set("user", "ada"); err != nil {
				t.Error(err)
			}
		}
	}
	// run serves the client a request a second, alternately, for d.
	run := func(a, b *fixture, c *clientCookies, d time.Duration) {
		for range d / (2 * time.Second) {
			for _, f := range []*fixture{a, b} {
				f.serve(c, signIn)
				a.clock.Advance(time.Second)
				b.clock.Advance(time.Second)
			}
		}
	}
	fleet := func(t *testing.T, bRing *cookiesession.KeyRing) (a, b *fixture) {
		a, b = newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
		b.ring = bRing
		for _, f := range []*fixture{a, b} {
			f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
		}
		return a, b
	}

	t.Run("two secrets", func(t *testing.T) {
		split, err := cookiesession.NewKeyRing(keyWithSecretOf(t, keyA, otherSecret))
		if err != nil {
			t.Fatal(err)
		}
		a, b := fleet(t, split)
		c := newClientCookies()
		warned := func(when string, want int) {
			t.Helper()
			for _, side := range []struct {
				f           *fixture
				fingerprint string
			}{{a, fingerprintA}, {b, fingerprintOther}} {
				lines := side.f.log.lines(splitSecretMsg)
				if len(lines) != want {
					t.Fatalf("%s: instance with %s logged %q, want %d Warns", when, side.fingerprint, lines, want)
				}
				for _, line := range lines {
					for _, attr := range []string{"level=WARN", "key_id=" + cookiesession.FormatKeyID(keyA), "fingerprint=" + side.fingerprint,
						"or forged cookies name it", "cookiesession list -ring FILE", "cookiesession_key_info{fingerprint}"} {
						if !strings.Contains(line, attr) {
							t.Errorf("%s: the Warn lacks %q: %s", when, attr, line)
						}
					}
				}
				assertNoSecret(t, "log", side.f.log.String())
			}
		}
		run(a, b, c, 50*time.Second)
		warned("within the first minute", 0)
		run(a, b, c, 50*time.Second)
		warned("after 100 s", 1)
		if got := a.m.Metrics().Refused["auth_failed"]; got != 49 {
			t.Errorf("auth_failed %d, want 49: each request after the first", got)
		}
		run(a, b, c, 100*time.Second)
		warned("after 200 s", 3)
	})

	t.Run("one secret", func(t *testing.T) {
		a, b := fleet(t, ringOf(t, keyA))
		run(a, b, newClientCookies(), 200*time.Second)
		for _, f := range []*fixture{a, b} {
			if lines := f.log.lines(splitSecretMsg); len(lines) > 0 {
				t.Errorf("a fleet with one secret logged %q", lines)
			}
			if m := f.m.Metrics(); m.Refused["auth_failed"] != 0 || m.Opened[cookiesession.FormatKeyID(keyA)] < 99 {
				t.Errorf("opened %v, refused %v; want every request but the first opened and nothing refused", m.Opened, m.Refused)
			}
		}
	})
}

// TestForgedTokensUnderHeldKeyQuiet: cookies that fail authentication
// under a key id the instance holds (forged, truncated) are not logged at
// Warn when they are few in a minute, a trickle, or few compared to the
// cookies that open under the id; the same cookies, many in a minute with
// none opening, are.
func TestForgedTokensUnderHeldKeyQuiet(t *testing.T) {
	read := func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).GetString("user") }
	for _, c := range []struct {
		name        string
		every       time.Duration // a forged cookie this often
		forged      int
		opensPerBad int // requests from a signed-in client between two
		want        int
	}{
		{"a few", 30 * time.Second, 5, 0, 0},
		{"a trickle", 5 * time.Second, 150, 0, 0},
		{"19 a minute", 3200 * time.Millisecond, 100, 0, 0},
		{"20 a minute", 3 * time.Second, 100, 0, 4}, // windows end at 60, 120, 180 and 240 s
		{"among many that open", time.Second, 150, 11, 0},
		{"many, none opening", time.Second, 150, 0, 2},
		{"many, as many opening", time.Second, 150, 1, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
			user := newClientCookies()
			f.serve(user, setString(t, "user", "ada"))
			token := user.vals["session"]
			for i := range c.forged {
				forged := newClientCookies()
				forged.vals["session"] = token[:len(token)/4*4-4] // truncated, whole base64 quanta: authentication fails under keyA
				if i%2 == 1 {
					b := []byte(token)
					b[len(b)/2] = map[bool]byte{true: 'B', false: 'A'}[b[len(b)/2] == 'A'] // one character changed
					forged.vals["session"] = string(b)
				}
				f.serve(forged, read)
				for range c.opensPerBad {
					f.serve(user, read)
				}
				f.clock.Advance(c.every)
			}
			m := f.m.Metrics()
			if m.Refused["auth_failed"] != uint64(c.forged) || m.Opened[cookiesession.FormatKeyID(keyA)] != uint64(c.forged*c.opensPerBad) {
				t.Fatalf("refused %v, opened %v; want %d auth_failed, %d opened", m.Refused, m.Opened, c.forged, c.forged*c.opensPerBad)
			}
			if lines := f.log.lines(splitSecretMsg); len(lines) != c.want {
				t.Errorf("%d forged cookies, one each %s, %d opening between two: logged %q, want %d Warns",
					c.forged, c.every, c.opensPerBad, lines, c.want)
			}
		})
	}
}

// TestAuthFailureWarnOncePerMinute: cookies failing authentication under
// two key ids of the ring, whose windows end a second apart, give one
// Warn a minute per Manager, not one per id.
func TestAuthFailureWarnOncePerMinute(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	user := newClientCookies()
	f.serve(user, setString(t, "user", "ada"))
	raw, err := base64.RawURLEncoding.DecodeString(user.vals["session"])
	if err != nil {
		t.Fatal(err)
	}
	underA := base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1])
	binary.BigEndian.PutUint32(raw[1:5], keyB)
	underB := base64.RawURLEncoding.EncodeToString(raw)
	read := func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).GetString("user") }
	for range 75 {
		for _, token := range []string{underA, underB} {
			forged := newClientCookies()
			forged.vals["session"] = token
			f.serve(forged, read)
			f.clock.Advance(time.Second)
		}
	}
	if got := f.m.Metrics().Refused["auth_failed"]; got != 150 {
		t.Fatalf("auth_failed %d, want 150", got)
	}
	// The windows of both ids end at 60 s and 120 s, a second apart.
	if lines := f.log.lines(splitSecretMsg); len(lines) != 2 {
		t.Errorf("logged %q, want 2 Warns in 150 s", lines)
	}
}

// TestChunksAboveMaxChunksNotSplitSecret: a session written over more
// chunks than this Manager's MaxChunks (by an instance with a higher one,
// during a rollout) fails authentication from its first chunks alone,
// under a key id the instance holds. Many such requests a minute, none
// opening, are not taken for two secrets under one id (README,
// Operators): the Warn for a chunk above MaxChunks names the cause.
func TestChunksAboveMaxChunksNotSplitSecret(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxChunks: 4})
	wide := newClientCookies()
	f.serve(wide, setString(t, "note", strings.Repeat("x", 7000)))
	if wide.vals["session.2"] == "" {
		t.Fatalf("the session did not take three chunks: %v", wide.vals)
	}
	f.m = f.manager(cookiesession.Options{MaxChunks: 2, Logger: newInfoLogger(f.log)})
	read := func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).GetString("note") }
	for range 150 {
		f.serve(wide.clone(), read) // the wider instance's cookies, each time
		f.clock.Advance(time.Second)
	}
	if failed := f.m.Metrics().Refused["auth_failed"]; failed != 150 {
		t.Fatalf("refused %v, want 150 auth_failed: the first chunks alone fail authentication", f.m.Metrics().Refused)
	}
	if lines := f.log.lines(splitSecretMsg); len(lines) != 0 {
		t.Errorf("a session over more chunks than MaxChunks, 150 times in 150 s: logged %q, want no split-secret Warn", lines)
	}
	if lines := f.log.lines("above MaxChunks"); len(lines) == 0 {
		t.Errorf("no Warn names the chunk above MaxChunks; log:\n%s", f.log)
	}
}
