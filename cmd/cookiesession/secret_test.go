package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leaksSecret reports whether text holds any 16 characters in a row of
// secret, a key's secret in standard base64.
func leaksSecret(text, secret string) bool {
	for i := 0; i+16 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+16]) {
			return true
		}
	}
	return false
}

// ringText returns the ring in path as keygen writes it, on one line
// (jq -c), in base64 (a Kubernetes Secret's data), and its first key's
// secret.
func ringText(t *testing.T, path string) (indented, oneLine, inBase64, secret string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	var ring struct {
		Keys []struct{ Secret string } `json:"keys"`
	}
	if err := json.Unmarshal(data, &ring); err != nil {
		t.Fatal(err)
	}
	return string(data), compact.String(), base64.StdEncoding.EncodeToString(data), ring.Keys[0].Secret
}

// TestRingTextArgumentRefused: a key ring's text given where the CLI
// takes a file's path or a word (-ring "$COOKIESESSION_KEYS", list
// "$(cat ring.json)") is refused as a usage error that names the
// argument and where a ring goes, and never echoes it. Before, every
// such error quoted the word whole, the secrets in it, onto stderr and
// into a CI log: "open {...,"secret":"..."}: no such file or directory",
// "unexpected argument", "unknown command", "-ring is given 2 times".
func TestRingTextArgumentRefused(t *testing.T) {
	// keygen -out TEXT, if not refused, writes a ring (its secret) to a
	// file named TEXT: in a temporary directory, not in the repository,
	// where one such file was committed.
	t.Chdir(t.TempDir())
	path := newRingFile(t)
	indented, oneLine, inBase64, secret := ringText(t, path)
	for _, text := range []string{indented, oneLine, inBase64} {
		for _, args := range [][]string{
			{"list", "-ring", text},
			{"list", "-ring=" + text},
			{"list", "-json", "-ring", text},
			{"inspect", "-ring", text, "token"},
			{"add", "-ring", text},
			{"promote", "-ring", text, "-id", "1a2b3c4d"},
			{"remove", "-ring", text, "-id", "1a2b3c4d"},
			{"keygen", "-out", text},
			{"list", text},
			{"list", "-ring", path, "-ring", text},
			{"inspect", "-ring", path, text},
			{"help", "list", text},
			{text},
		} {
			res := cli(t, "", args...)
			if res.code != 2 || !strings.Contains(res.stderr, "is a key ring's text (") || !strings.Contains(res.stderr, "not shown: it holds secrets") || res.stdout != "" {
				t.Errorf("%.40q: exit %d, stdout %q, stderr %q; want exit 2 naming a ring's text", args, res.code, res.stdout, res.stderr)
			}
			if leaksSecret(res.stderr, secret) {
				t.Errorf("%.40q: stderr shows the secret: %q", args, res.stderr)
			}
		}
	}
	// A path with those words is a path: its missing file is named.
	odd := filepath.Join(t.TempDir(), "{env}", "keys", "secret.json")
	if res := cli(t, "", "list", "-ring", odd); res.code != 1 || !strings.Contains(res.stderr, odd) {
		t.Errorf("list -ring %s: exit %d, stderr %q; want exit 1 naming the path", odd, res.code, res.stderr)
	}
	// So is a Windows path under a GUID-named folder, and keygen -out
	// writes a new file there.
	win := `C:\ProgramData\{3F2504E0-4F89-11D3-9A0C-0305E82C3301}\keys\secret.json`
	if res := cli(t, "", "list", "-ring", win); res.code != 1 || !strings.Contains(res.stderr, win) {
		t.Errorf("list -ring %s: exit %d, stderr %q; want exit 1 naming the path", win, res.code, res.stderr)
	}
	if res := cli(t, "", "keygen", "-out", win); res.code != 0 {
		t.Errorf("keygen -out %s: exit %d, stderr %q; want the file written", win, res.code, res.stderr)
	}
	// A key's secret given where a word belongs is refused without it:
	// as the command, an argument, or a flag's value; so is one key
	// copied out of a ring.
	hexSecret := strings.Repeat("9f3A", 16)
	oneKey := `{"id":"676d9a96","secret":"` + secret + `"}`
	for _, args := range [][]string{
		{"list", oneKey}, {"inspect", "-ring", path, oneKey}, {"list", "-ring", oneKey},
		{secret}, {"help", secret}, {"list", secret}, {"list", "-ring", path, hexSecret}, {"add", "-ring", path, secret},
		{"list", "-ring", secret}, {"keygen", "-out", secret}, {"inspect", "-name=" + secret, "-ring", path, "x"},
	} {
		res := cli(t, "", args...)
		if res.code != 2 || !strings.Contains(res.stderr, "is a key") || leaksSecret(res.stderr, secret) || strings.Contains(res.stderr, hexSecret) {
			t.Errorf("%.40q: exit %d, stderr %q; want exit 2 naming a key's secret or a ring's text, not shown", args, res.code, res.stderr)
		}
	}
	// A long cookie name, and a long path, are no secret.
	if res := cli(t, "", "inspect", "-ring", path, "-name", "__Host-MyAppSessionCookie", "x"); strings.Contains(res.stderr, "secret") {
		t.Errorf("inspect -name __Host-MyAppSessionCookie: stderr %q", res.stderr)
	}
	res := cli(t, "", "list", "-ring", oneLine)
	if want := "the value of -ring is a key ring's text"; !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "-ring - reads it from stdin") {
		t.Errorf("stderr %q; want it to name %q and the fix", res.stderr, want)
	}
}

// TestInspectSecretNotEchoed: a key's secret pasted for a token, or a
// ring's text given as the cookie on stdin, is refused without being
// shown. Before, "no cookie named "session" in the input (found:
// "SECRET")" showed all 32 bytes of the secret, the '=' it ends with
// taken for the end of a cookie's name.
func TestInspectSecretNotEchoed(t *testing.T) {
	path := newRingFile(t)
	indented, oneLine, _, secret := ringText(t, path)
	hex := strings.Repeat("9f3a", 16)
	for _, tc := range []struct{ what, stdin, arg, want string }{
		{"a secret as the token", "", secret, `found: <a name of 43 bytes that may be a key's secret, not shown>`},
		{"a secret on stdin", secret + "\n", "-", `found: <a name of 43 bytes that may be a key's secret, not shown>`},
		{"a secret in hex as a cookie", "", "sid=" + hex + "; " + hex + "=1", `found: "sid", <a name of 64 bytes that may be a key's secret, not shown>`},
		{"a ring on stdin", indented, "-", "stdin holds a key ring's text, not a cookie: give the ring with -ring FILE or -ring -, and the token as an argument"},
		{"a ring on one line on stdin", oneLine, "-", "stdin holds a key ring's text"},
		{"one key of a ring on stdin", `{"id": "676d9a96", "secret": "` + secret + `"}` + "\n", "-", "stdin holds a key ring's text"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			res := cli(t, tc.stdin, "inspect", "-ring", path, tc.arg)
			if res.code != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, tc.want)
			}
			if leaksSecret(res.stderr, secret) || strings.Contains(res.stderr, hex) {
				t.Errorf("stderr shows the secret: %q", res.stderr)
			}
		})
	}
	// A cookie's name of one case, or a short one, is no secret: shown.
	res := cli(t, "", "inspect", "-ring", path, "_hjsessionuser_12345678901=1; theme=dark")
	if want := `found: "_hjsessionuser_12345678901", "theme"`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q; want %q", res.stderr, want)
	}
}
