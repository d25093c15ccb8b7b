package cookiesession_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestRingMemberNameNotEchoed: a JSON document that holds the ring as a
// member's value is named by the member's jq path, but a name that may be
// a secret (pasted as the field's name) or is longer than 64 bytes is not
// echoed: the path says its length. Before, the name was echoed whole,
// twice: a secret, or 200 kB of error for a 100 kB name.
func TestRingMemberNameNotEchoed(t *testing.T) {
	ring, err := ringOf(t, 0x1a2b3c4d).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	for _, tc := range []struct{ what, name, want string }{
		{"a secret in base64", base64.StdEncoding.EncodeToString(secret), ".[<a member name of 44 bytes, not shown>]"},
		{"a secret in URL-safe base64", base64.RawURLEncoding.EncodeToString(secret), ".[<a member name of 43 bytes, not shown>]"},
		{"a secret in hex", strings.Repeat("9f", 32), ".[<a member name of 64 bytes, not shown>]"},
		{"a long name", strings.Repeat("n", 100000), ".[<a member name of 100000 bytes, not shown>]"},
		{"a field's name in upper case", "COOKIESESSION_KEYS_PRODUCTION", ".COOKIESESSION_KEYS_PRODUCTION"},
		{"a field's name in lower case", "cookiesession_ring_production_v2", ".cookiesession_ring_production_v2"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{"outer": map[string]string{tc.name: string(ring)}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cookiesession.ParseKeyRing(doc)
			want := "as the value of .outer" + tc.want
			if tc.want[1] == '[' {
				want = "as the value of .outer" + tc.want[1:]
			}
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), tc.name[:min(len(tc.name), 40)]) != (tc.want[1] != '[') {
				t.Fatalf("ParseKeyRing = %v\nwant it to name %s and echo the name only if shown", err, want)
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

// TestRingParsersLinear: the ring loaders' diagnoses (ringWrapping's
// unwrappings, nestedRing's walk, the single-secret check, the syntax
// error's position) take time and memory linear in the text: a text 8
// times longer takes at most 24 times as long (a quadratic pass would take
// 64 times) and allocates at most 128 bytes a byte (a document of many small objects takes 66). Each shape is sized to
// about 1 MB, a ring file's bound.
func TestRingParsersLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("times megabyte texts")
	}
	ring, err := ringOf(t, 0x1a2b3c4d).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	shapes := map[string]func(n int) []byte{
		"base64 of random bytes": func(n int) []byte { return []byte(base64.StdEncoding.EncodeToString(random(n * 3 / 4))) },
		"base64 of base64": func(n int) []byte {
			return []byte(base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(random(n / 2)))))
		},
		"members of strings": func(n int) []byte {
			return []byte(`{"a":"` + strings.Repeat(`x","b`, n/6) + `":"y"}`)
		},
		"members of objects three deep": func(n int) []byte {
			inner := `{"p":{"q":` + strings.Repeat(`{"r":"s"},"t":`, n/30) + `{}}}`
			return []byte(`{"a":` + inner + `,"b":` + inner + `}`)
		},
		"member name": func(n int) []byte { return []byte(`{"` + strings.Repeat("n", n) + `":` + string(ring) + `}`) },
		"escaped quotes": func(n int) []byte {
			return []byte(strings.Repeat(`\"`, n/2))
		},
		"escaped line breaks": func(n int) []byte { return []byte(`"` + strings.Repeat(`\n`, n/2) + `"`) },
		"unquoted words":      func(n int) []byte { return []byte("{" + strings.Repeat("ab:cd,", n/6) + "}") },
		"a .env line": func(n int) []byte {
			return []byte(cookiesession.EnvKeys + "='" + strings.Repeat(" ", n) + string(ring))
		},
		"YAML lines":          func(n int) []byte { return []byte(strings.Repeat("name: value\n", n/12)) },
		"conflict-like lines": func(n int) []byte { return []byte("{" + strings.Repeat("<<<<<<\n", n/7)) },
		"nested arrays":       func(n int) []byte { return []byte(`{"keys":` + strings.Repeat("[", n)) },
		"a long secret": func(n int) []byte {
			return []byte(ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", strings.Repeat("A", n))))
		},
		"many keys": func(n int) []byte {
			return []byte(ringDoc("1", "1a2b3c4d", strings.Repeat(`{"id":"1a2b3c4d","secret":""},`, n/30)))
		},
		"white space": func(n int) []byte { return append(bytes.Repeat([]byte(" \n"), n/2), ring[:len(ring)-1]...) },
	}
	const small, large = 1 << 17, 1 << 20
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			// Measured again, up to three times, when over the bound: a
			// shared machine's load can slow the large run once, while
			// a quadratic parse is over it every time.
			var s, l time.Duration
			var sAlloc, lAlloc uint64
			for range 3 {
				s, sAlloc = parseCost(shape(small))
				l, lAlloc = parseCost(shape(large))
				if l <= 24*s+50*time.Millisecond {
					break
				}
			}
			if l > 24*s+50*time.Millisecond {
				t.Errorf("%d bytes took %v, %d bytes %v, in each of three tries: not linear", small, s, large, l)
			}
			if lAlloc > 128*large {
				t.Errorf("%d bytes allocated %d bytes (%d for %d bytes)", large, lAlloc, sAlloc, small)
			}
		})
	}
}

// parseCost returns the least time of three to parse data as each loader
// does, and the bytes the first parse allocates.
func parseCost(data []byte) (time.Duration, uint64) {
	var before, after runtime.MemStats
	best := time.Duration(1 << 62)
	var alloc uint64
	for i := range 3 {
		runtime.ReadMemStats(&before)
		start := time.Now()
		cookiesession.ParseKeyRing(data)
		cookiesession.ParseRingFileText(data, "ring.json")
		best = min(best, time.Since(start))
		if i == 0 {
			runtime.ReadMemStats(&after)
			alloc = after.TotalAlloc - before.TotalAlloc
		}
	}
	return best, alloc
}

// TestRingTextAsPathNotEchoed: the ring's text, or a key's secret, given
// for a file's path (LoadKeyRingFile(os.Getenv("COOKIESESSION_KEYS"))) is
// refused by LoadKeyRingFile, ReloadFile and WatchFile with an error that
// says what was given and where it goes, never the text: "open {...}: no
// such file or directory" put every secret of the ring in the server's log,
// and WatchFile's in its metrics' reload.error too.
func TestRingTextAsPathNotEchoed(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	text, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Keys []struct{ Secret string } `json:"keys"`
	}
	if err := json.Unmarshal(text, &parsed); err != nil {
		t.Fatal(err)
	}
	secret := parsed.Keys[0].Secret
	var indented bytes.Buffer
	json.Indent(&indented, text, "", "  ")
	for _, tc := range []struct{ what, path, want string }{
		{"the ring's text", string(text), "the path given is a key ring's text ("},
		{"the ring's text, indented", indented.String(), "the path given is a key ring's text ("},
		{"the ring's text in base64", base64.StdEncoding.EncodeToString(text), "the path given is a key ring's text ("},
		{"a secret", secret, "the path given is a key's secret (44 bytes, not shown)"},
		{"one key of the ring", `{"id": "1a2b3c4d", "secret": "` + secret + `"}`, "the path given is a key ring's text ("},
	} {
		t.Run(tc.what, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "LoadKeyRingEnv") {
					t.Errorf("%s: %v; want %q and the fix", what, err, tc.want)
				}
				if err != nil && strings.Contains(err.Error(), secret[:16]) {
					t.Errorf("%s shows the secret: %v", what, err)
				}
			}
			_, err := cookiesession.LoadKeyRingFile(tc.path)
			check("LoadKeyRingFile", err)
			r := ringOf(t, 0x5e6f7a8b)
			check("ReloadFile", r.ReloadFile(tc.path))
			var reported []error
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			check("WatchFile", r.WatchFile(ctx, tc.path, time.Second, func(err error) { reported = append(reported, err) }))
			if len(reported) != 1 {
				t.Fatalf("WatchFile reported %v, want the error once", reported)
			}
			check("WatchFile's report", reported[0])
			if st := managerOn(t, r, time.Now).Metrics().Reload; strings.Contains(st.Error, secret[:16]) || !strings.Contains(st.Error, tc.want) {
				t.Errorf("reload status %q", st.Error)
			}
		})
	}
	// A path with those words is a path: its missing file is named.
	odd := filepath.Join(t.TempDir(), "{env}", "keys", "secret.json")
	if _, err := cookiesession.LoadKeyRingFile(odd); err == nil || !strings.Contains(err.Error(), "open "+odd+": no such file") {
		t.Errorf("LoadKeyRingFile of a missing path: %v", err)
	}
	// So is a Windows path under a GUID-named folder: C: has a colon, but
	// neither keys nor secret is a field's name.
	win := `C:\ProgramData\{3F2504E0-4F89-11D3-9A0C-0305E82C3301}\keys\secret.json`
	if _, err := cookiesession.LoadKeyRingFile(win); err == nil || !strings.Contains(err.Error(), "open "+win+": no such file") {
		t.Errorf("LoadKeyRingFile of a missing Windows path: %v", err)
	}
	// A missing file whose name is merely long and of both cases is named.
	_, err = cookiesession.LoadKeyRingFile("/run/secrets/SessionKeysProduction")
	if err == nil || !strings.Contains(err.Error(), "open /run/secrets/SessionKeysProduction: no such file") {
		t.Errorf("LoadKeyRingFile of a missing path: %v", err)
	}
}
