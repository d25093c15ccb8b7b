package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestFlagGivenTwiceRefused: the flag package keeps the last of a flag's
// values without a word, so "keygen -out a.json -out b.json" wrote b.json
// alone and exited 0, and "promote -id OLD -id NEW" promoted the last. A
// flag given two different values is now a usage error, before anything is
// written; the same value twice is taken.
func TestFlagGivenTwiceRefused(t *testing.T) {
	path := newRingFile(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	id := listJSON(t, path)[0].ID
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "-out", a, "-out", b}, `-out is given 2 times, as "` + a + `" and "` + b + `"`},
		{[]string{"add", "-ring", path, "-promote-in", "1h", "-promote-in", "2h"}, `-promote-in is given 2 times, as "1h" and "2h"`},
		{[]string{"add", "-ring", path, "-ring", a}, "-ring is given 2 times"},
		{[]string{"promote", "-ring", path, "-id", id, "-id", "1a2b3c4d"}, "-id is given 2 times"},
		{[]string{"remove", "-ring", path, "-id", "1a2b3c4d", "-id", id}, "-id is given 2 times"},
		{[]string{"list", "-ring", path, "-json", "-json=false"}, "-json is given 2 times"},
		{[]string{"inspect", "-ring", path, "-name", "a", "-name", "b", "x"}, "-name is given 2 times"},
	} {
		res := cli(t, "", tt.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "give it once") || res.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, res.code, res.stdout, res.stderr, tt.want)
		}
	}
	for _, p := range []string{a, b} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was written: %v", filepath.Base(p), err)
		}
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
		t.Errorf("the ring file changed: %v", err)
	}
	// One value given twice leaves no doubt, and counts once.
	if out := mustCLI(t, "list", "-ring", path, "-json", "-json"); !strings.HasPrefix(out, "[") {
		t.Errorf("list -json -json printed %q", out)
	}
}

// TestFlagAfterArgumentNamed: the flag package stops at the first argument,
// so "inspect TOKEN -json" read -json as a second token and said "give one
// token or Cookie header", and "list -ring FILE extra -json" named only
// "extra". Both now name the flag that was not read, and the fix.
func TestFlagAfterArgumentNamed(t *testing.T) {
	path := newRingFile(t)
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "-ring", path, token, "-json"}, `-json after the token "` + token + `" is not read as a flag: put every flag before the token`},
		{[]string{"inspect", "-ring", path, token, "--max-age=1h"}, "--max-age=1h after the token"},
		{[]string{"inspect", "-ring", path, "-", "-name", "s"}, `-name after the token "-"`},
		{[]string{"list", "-ring", path, "extra", "-json"}, `unexpected argument "extra", and -json after it is not read as a flag`},
		{[]string{"promote", "-ring", path, "1a2b3c4d", "-id", "1a2b3c4d"}, `unexpected argument "1a2b3c4d", and -id after it`},
	} {
		res := cli(t, "", tt.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) || res.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tt.args, res.code, res.stdout, res.stderr, tt.want)
		}
	}
	// A second argument that is no flag is still just one too many.
	res := cli(t, "", "inspect", "-ring", path, token, "-bogus")
	if res.code != 2 || !strings.Contains(res.stderr, `unexpected argument "-bogus": give one token`) {
		t.Errorf("inspect TOKEN -bogus: %+v", res)
	}
}

// TestDurationWithoutUnit: "-promote-in 5" is refused by the flag package
// with "parse error", which does not say that a unit is missing. The
// duration flags now say what a duration is.
func TestDurationWithoutUnit(t *testing.T) {
	path := newRingFile(t)
	for _, args := range [][]string{
		{"add", "-ring", path, "-promote-in", "5"},
		{"inspect", "-ring", path, "-max-age", "5", "x"},
		{"inspect", "-ring", path, "-max-lifetime", "30d", "x"},
	} {
		res := cli(t, "", args...)
		if res.code != 2 || !strings.Contains(res.stderr, "is not a duration: give a number and its unit, such as 90m, 1h") {
			t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
	if keys := listJSON(t, path); len(keys) != 1 {
		t.Errorf("add with a bad -promote-in changed the ring: %+v", keys)
	}
	// The flags keep their help (TestAddPromoteIn checks -promote-in's value).
	help := mustCLI(t, "inspect", "-h")
	for _, want := range []string{"-max-age DUR", "-max-lifetime DUR"} {
		if !strings.Contains(help, want) {
			t.Errorf("inspect -h lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "panic") || strings.Contains(help, "(default 0s)") {
		t.Errorf("inspect -h:\n%s", help)
	}
}

// TestJSONFieldsDocumented: README names every field that -json prints,
// so that a script can rely on them.
func TestJSONFieldsDocumented(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The CLI's section, up to the runbook.
	_, readme, _ := strings.Cut(string(data), "The CLI (`cmd/cookiesession`)")
	readme, _, _ = strings.Cut(readme, "### Rotation runbook")
	for _, v := range []any{keyListing{}, newKeyOutput{}, inspection{}, ownLifetime{}, typedValue{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "" && !strings.Contains(readme, `"`+name+`"`) {
				t.Errorf("README does not name %s's -json field `%s`", typ.Name(), name)
			}
		}
	}
}
