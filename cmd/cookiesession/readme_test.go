package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeSection returns README's text from the heading start up to the
// next heading of its level or above.
func readmeSection(t *testing.T, start string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+start+"\n")
	if !ok {
		t.Fatalf("README has no heading %q", start)
	}
	level := len(strings.Fields(start)[0])
	for _, line := range strings.SplitAfter(section, "\n") {
		if hashes := len(line) - len(strings.TrimLeft(line, "#")); hashes > 0 && hashes <= level && strings.HasPrefix(line[hashes:], " ") {
			end, _, _ := strings.Cut(section, line)
			return end
		}
	}
	return section
}

// TestReadmeRunbookCommands runs the commands the rotation runbook prints,
// as printed and in its order, on a ring from keygen, with NEWID and
// OLDID the ids they stand for: each must exit 0, add print a key's id,
// and promote and remove print nothing on stdout. Every -promote-at time
// it prints must be one add takes, at least a minute ahead: a date that
// has passed would be refused.
func TestReadmeRunbookCommands(t *testing.T) {
	runbook := readmeSection(t, "### Rotation runbook for a fleet")
	t.Chdir(t.TempDir())
	old := strings.TrimSpace(mustCLI(t, "keygen", "-out", "ring.json"))
	ids := map[string]string{"OLDID": old}
	ran := 0
	for _, span := range regexp.MustCompile("`cookiesession [^`]*`").FindAllString(runbook, -1) {
		args := strings.Fields(strings.Trim(span, "`"))[1:]
		for i, arg := range args {
			if id, ok := ids[arg]; ok {
				args[i] = id
			}
		}
		res := cli(t, "", args...)
		if res.code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", span, res.code, res.stderr)
		}
		switch args[0] {
		case "add":
			id := strings.TrimSpace(res.stdout)
			if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(id) {
				t.Errorf("%s printed %q, want the new key's id", span, res.stdout)
			}
			if _, ok := ids["NEWID"]; !ok {
				ids["NEWID"] = id
			}
		case "promote", "remove":
			if res.stdout != "" {
				t.Errorf("%s printed %q on stdout, want nothing", span, res.stdout)
			}
		}
		ran++
	}
	if ran < 4 {
		t.Errorf("ran %d commands from the runbook, want its add, list, promote, scheduled add and remove", ran)
	}
	for _, at := range regexp.MustCompile("-promote-at ([^ `]+)").FindAllStringSubmatch(runbook, -1) {
		when, err := time.Parse(time.RFC3339, at[1])
		if err != nil || time.Until(when) < minPromotionLead {
			t.Errorf("the runbook's -promote-at %s is not a time add takes (%v): give one in the future", at[1], err)
		}
	}
}
