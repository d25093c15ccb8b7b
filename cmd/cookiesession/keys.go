package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

const keygenUsage = `usage: cookiesession keygen [-out FILE [-force]] [-json]

Generate a key ring holding one new key, the primary, and print its JSON
text form (secrets included) to stdout, or write it to FILE with mode 0600
and print the new key's id. An existing FILE is never replaced unless
-force is given; a ring it held is named on stderr, since servers that
load the new one sign out every session its keys sealed (rotate with add,
promote and remove instead). A stdout that is the null device (>/dev/null,
or closed: the Go runtime opens the null device in its place) is refused
without -out, since the ring printed there would be lost. A stdout that is
a file other users may read (keygen > FILE under the usual umask makes it
0644), or that held text before (>>), is noted on stderr.
`

func cmdKeygen(e *env, args []string) error {
	fs := newFlagSet("keygen")
	out := fs.String("out", "", "write the ring to `FILE` (mode 0600) instead of stdout")
	force := fs.Bool("force", false, "replace FILE if it exists")
	asJSON := fs.Bool("json", false, `with -out, print {"id": ID} instead of the bare id (the ring itself is always JSON)`)
	if err := e.parse(fs, keygenUsage, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := checkOut(fs, *out, *force); err != nil {
		return err
	}
	if err := refuseNotRegular(*out); *out != "" && err != nil {
		return err // before -force reads it: a named pipe would block
	}
	if *out == "" && isNullDevice(e.stdout) {
		return errors.New("keygen prints the new ring, the only copy of its secret, to stdout, which is the null device: the ring would be lost; write it with -out FILE, or send stdout to a file or a pipe (a closed stdout, >&-, is the null device too: the Go runtime opens it in its place)")
	}
	key, err := cookiesession.GenerateKey()
	if err != nil {
		return err
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		return err
	}
	data, err := encodeRing(ring)
	switch {
	case err != nil:
		return err
	case *out == "":
		before := regularStdout(e.stdout)
		if _, err = e.stdout.Write(data); err != nil {
			// "write /dev/stdout: no space left on device" alone leaves
			// the file the shell redirected stdout to, which looks like a
			// ring and is part of one.
			return fmt.Errorf("printing the new ring to stdout failed: %w; whatever stdout went to holds part of the ring at most, which no server loads: remove it and run keygen again, or write the ring with -out FILE, which is written whole or not at all", err)
		}
		if before != nil {
			e.noteStdoutFile(before)
		}
		return nil
	case *force:
		replaced, _ := cookiesession.LoadKeyRingFile(*out) // nil if absent or not a ring
		if err = e.writeFileAtomic(*out, data); err == nil && replaced != nil {
			e.noteReplacedRing(*out, replaced)
		}
	default:
		err = createFileExclusive(*out, data)
	}
	if err != nil {
		return err
	}
	return e.printKeyID(key.ID(), time.Time{}, *asJSON)
}

// regularStdout returns the file information of stdout if it is a regular
// file (keygen > FILE), or nil.
func regularStdout(w io.Writer) os.FileInfo {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	return fi
}

// noteStdoutFile says on stderr what keygen > FILE did that -out would not:
// the shell made FILE with its umask (0644 under the usual 022), which
// lets every user of the machine read the secret, or >> put the ring after
// text FILE held (before is FILE as it was before the write). Windows
// keeps permissions in ACLs, which the mode does not show.
func (e *env) noteStdoutFile(before os.FileInfo) {
	if before.Size() > 0 {
		fmt.Fprintf(e.stderr, "cookiesession keygen: note: stdout is a file that already held %d bytes (>> appends): the ring follows them, and no loader takes a file that holds more than a ring: write the ring to a file of its own (keygen -out FILE); to add a key to a ring, use add\n", before.Size())
	}
	if perm := before.Mode().Perm(); runtime.GOOS != "windows" && perm&0o007 != 0 {
		fmt.Fprintf(e.stderr, "cookiesession keygen: note: stdout is a file that other users may read (mode %04o), and it now holds the ring's secret: chmod 600 it (or chmod 640 for a group the server runs in); keygen -out FILE writes the ring with mode 0600\n", perm)
	}
}

// noteReplacedRing says on stderr that keygen -force dropped the keys of
// a ring: servers that load the file refuse every session those keys
// sealed, which a rotation with add, promote and remove would keep.
func (e *env) noteReplacedRing(path string, replaced *cookiesession.KeyRing) {
	var ids []string
	for _, k := range replaced.Keys() {
		ids = append(ids, cookiesession.FormatKeyID(k.ID))
	}
	fmt.Fprintf(e.stderr, "cookiesession keygen: note: %s held a key ring (keys %s) that the new one replaces: servers that load it refuse every session those keys sealed (unknown key id) and sign its user out; to change keys without that, use add, promote and remove\n",
		path, strings.Join(ids, " "))
}

// checkOut refuses an -out that names no file. Given but empty (a script's
// unset variable) it would print the secrets to stdout, into a log, and
// write nothing; "-" would make a file named "-", not mean stdout.
func checkOut(fs *flag.FlagSet, out string, force bool) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "out" })
	switch {
	case given && out == "":
		return usageErrorf("keygen", "-out is empty; omit -out to print the ring to stdout")
	case out == "-":
		return usageErrorf("keygen", "-out - would write a file named \"-\"; omit -out to print the ring to stdout")
	case force && out == "":
		return usageErrorf("keygen", "-force needs -out")
	}
	return nil
}

// newKeyOutput is what keygen -out and add print with -json.
type newKeyOutput struct {
	ID        string     `json:"id"`
	PromoteAt *time.Time `json:"promote_at,omitempty"`
}

// printKeyID prints the id of a new key, as a line or as JSON, once the
// ring file that holds it is written. If stdout fails (a full disk, a
// closed pipe), the error says the file was written: "write /dev/stdout"
// alone reads as a failed command, and running it again adds another key.
func (e *env) printKeyID(id uint32, promoteAt time.Time, asJSON bool) error {
	out := newKeyOutput{ID: cookiesession.FormatKeyID(id)}
	var err error
	if asJSON {
		if !promoteAt.IsZero() {
			at := promoteAt.UTC()
			out.PromoteAt = &at
		}
		err = writeJSON(e, out)
	} else {
		_, err = fmt.Fprintln(e.stdout, out.ID)
	}
	if err != nil {
		return fmt.Errorf("the ring file was written and holds the new key %s, but printing its id failed: %w; do not run the command again, list shows the key", out.ID, err)
	}
	return nil
}

const addUsage = `usage: cookiesession add -ring FILE [-promote-at RFC3339 | -promote-in DURATION] [-json]

Generate a new key, add it to the ring in FILE as open-only, rewrite FILE
atomically (keeping its owner and group, none for others) and print the new
key's id.

Rotation: add the key, let the file reach every instance, then promote it.
With -promote-at (or -promote-in, counted from now) the key is promoted by
each instance's own clock at that time, so the fleet switches together;
leave enough time for the file to reach every instance first: a time
less than a minute away is refused, since an instance whose clock runs
up to 60 s ahead (the skew servers allow for) would find it due as the
file arrives. A key
already scheduled after that time, which will take over from the new one,
is noted on stderr, and so is one scheduled at that same instant, which
then never seals: of keys due together, the one listed last (the new one)
becomes the primary.
`

func cmdAdd(e *env, args []string) error {
	fs := newFlagSet("add")
	ringPath := fs.String("ring", "", "key-ring `FILE` to change")
	promoteAt := fs.String("promote-at", "", "schedule the key's promotion at this `RFC3339` time")
	promoteIn := durationVar(fs, "promote-in", "schedule the key's promotion this `DURATION` from now, such as 1h")
	asJSON := fs.Bool("json", false, `print {"id": ID, "promote_at": TIME} instead of the bare id`)
	if err := e.parse(fs, addUsage, args); err != nil {
		return err
	}
	if err := checkArgs(fs, "ring"); err != nil {
		return err
	}
	at, err := promotionTime(fs, *promoteAt, *promoteIn, time.Now())
	if err != nil {
		return err
	}
	var key cookiesession.Key
	ring, err := e.editRing(*ringPath, func(ring *cookiesession.KeyRing) error {
		if key, err = newKeyFor(ring); err != nil {
			return err
		}
		return ring.AddScheduled(key, at)
	})
	if err != nil {
		return err
	}
	if !at.IsZero() {
		e.noteLaterPromotions("add", ring, key.ID(), at)
	}
	return e.printKeyID(key.ID(), at, *asJSON)
}

// promotionTime reads -promote-at or -promote-in (at most one). A time
// that is not in the future is refused: the key would become primary on
// instances that get the file first, before the others can open what it
// seals. Use promote for that. A flag that is given counts even when its
// value is empty or zero (a script's unset variable): adding the key
// unscheduled would leave the rotation undone with nothing said.
func promotionTime(fs *flag.FlagSet, promoteAt string, promoteIn time.Duration, now time.Time) (time.Time, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var at time.Time
	switch {
	case given["promote-at"] && given["promote-in"]:
		return time.Time{}, usageErrorf("add", "give -promote-at or -promote-in, not both")
	case given["promote-in"]:
		at = now.Add(promoteIn).UTC().Truncate(time.Second)
	case given["promote-at"]:
		var err error
		if at, err = time.Parse(time.RFC3339, promoteAt); err != nil {
			// The example is a time add takes: a fixed date would pass
			// and then be refused as not in the future.
			example := now.Add(2 * time.Hour).UTC().Truncate(time.Hour)
			return time.Time{}, usageErrorf("add", "-promote-at %q is not an RFC3339 time such as %s", promoteAt, example.Format(time.RFC3339))
		}
	default:
		return time.Time{}, nil
	}
	lead := at.Sub(now)
	if given["promote-in"] {
		lead = promoteIn // at is truncated to the second: -promote-in 1m is a minute
	}
	switch {
	case !at.After(now):
		return time.Time{}, usageErrorf("add", "promotion time %s is not in the future; add the key, then use promote", at.Format(time.RFC3339))
	case lead < minPromotionLead:
		return time.Time{}, usageErrorf("add", "promotion time %s is only %s away, under the minute the schedule needs: the file must reach every instance and be loaded there before it, and an instance whose clock runs up to 60 s ahead (the skew servers allow for) finds it due as the file arrives, seals under the key at once, and sessions it seals are refused by instances that have not loaded the key; schedule it later (-promote-in 1h, as the runbook does), or to promote at once on purpose, add the key and then use promote",
			at.Format(time.RFC3339), lead.Round(time.Second))
	}
	return at, nil
}

// minPromotionLead is how far ahead add schedules a promotion at least:
// the clock skew servers allow for around a promote_at (60 s), before
// which the file must also have reached and been loaded by every
// instance. Less is what promote does, without saying so.
const minPromotionLead = time.Minute

// newKeyFor generates a key whose random id is not already in ring. A
// clash is about one in a billion, but it would make the add fail.
func newKeyFor(ring *cookiesession.KeyRing) (cookiesession.Key, error) {
	for {
		key, err := cookiesession.GenerateKey()
		if err != nil || !ring.Has(key.ID()) {
			return key, err
		}
	}
}

const promoteUsage = `usage: cookiesession promote -ring FILE -id ID

Make key ID (8 hex digits, see list) the primary of the ring in FILE now and
rewrite FILE atomically. The former primary stays as an open-only key, so
sessions it sealed keep working. Promote only a key every instance has.
A note on stderr says when the key was the primary already (nothing
changed; by its promote_at, if that has passed), when it was scheduled to become the primary later (promote
drops that schedule: a key added with -promote-in needs no promote), or
another key is scheduled to take over from it later.
`

func cmdPromote(e *env, args []string) error {
	var already bool
	var scheduled, since time.Time
	var promoted string
	promote := func(ring *cookiesession.KeyRing, id uint32, _ string) error {
		already = ring.Primary() == id
		scheduled, promoted = pendingPromotion(ring, id, time.Now()), cookiesession.FormatKeyID(id)
		for _, k := range ring.Keys() {
			if already && k.ID == id {
				since = k.PromoteAt // zero unless primary by its schedule
			}
		}
		return ring.Promote(id)
	}
	if err := changeKey(e, "promote", promoteUsage, args, nil, promote); err != nil {
		return err
	}
	if !scheduled.IsZero() {
		// The schedule let the file reach every instance first: promote
		// drops it, and a second operator may not know it was there.
		fmt.Fprintf(e.stderr, "cookiesession promote: note: the key was scheduled to become the primary at %s; it is the primary now instead, on each instance as soon as it loads this file, and instances that have not loaded the ring that added it refuse the sessions it seals (unknown key id %s); if the schedule was meant, ship the ring as it was before this promote\n",
			scheduled.UTC().Format(time.RFC3339), promoted)
	}
	if already && !since.IsZero() {
		// The schedule add set has done it: step 3 run as well.
		fmt.Fprintf(e.stderr, "cookiesession promote: note: the key has been the primary since its promote_at %s, so nothing changes for servers; the file now names it the primary without a schedule\n",
			since.UTC().Format(time.RFC3339))
		return nil
	}
	if already {
		// Most likely the old key's id was given for the new one's: the
		// rotation has not happened, and removing the other key would undo it.
		fmt.Fprintln(e.stderr, "cookiesession promote: note: the key was already the primary, so nothing changed; to rotate, promote the key that add printed (see list)")
	}
	return nil
}

// pendingPromotion returns key id's promote_at in ring if it is after now,
// else the zero time.
func pendingPromotion(ring *cookiesession.KeyRing, id uint32, now time.Time) time.Time {
	for _, k := range ring.Keys() {
		if k.ID == id && k.PromoteAt.After(now) {
			return k.PromoteAt
		}
	}
	return time.Time{}
}

const removeUsage = `usage: cookiesession remove -ring FILE -id ID [-max-lifetime DURATION]

Remove key ID (8 hex digits, see list) from the ring in FILE and rewrite FILE
atomically. Sessions sealed under it stop opening, so remove a key only once
the longest a session lives has passed since it was last primary: the
Manager's MaxLifetime when sessions set their own Lifetime ("remember me"),
else its MaxAge. Give that as -max-lifetime (default 24h, the Manager's
default MaxAge). The primary cannot be removed: promote another key first.

A key that stopped sealing less than -max-lifetime ago is still removed,
with a note on stderr saying when: the time is the promote_at of the key
that took over, while FILE still holds it. A rewrite by this tool after
that time, or promote, records none: then, if FILE was changed less than
-max-lifetime ago (its modification time), the note says that this change
may have been the promote that ended the key's turn, and what removing it
then risks. Check the time yourself.

A key scheduled to become the primary less than a minute from now (the
least add schedules) is removed too, with a note: instances that promote it
before this file reaches them seal sessions under it, which the file then
signs out. Cancel a rotation earlier than that.
`

// defaultMaxLifetime is remove's -max-lifetime when not given: how long
// after a key stopped sealing remove notes it, the Manager's default
// MaxAge, the life of the sessions it sealed last.
const defaultMaxLifetime = 24 * time.Hour

func cmdRemove(e *env, args []string) error {
	var note string
	var maxLifetime *time.Duration
	flags := func(fs *flag.FlagSet) func() error {
		maxLifetime = durationVar(fs, "max-lifetime", "the longest a session lives: the Manager's MaxLifetime, else its MaxAge, a `DURATION` such as 720h (default 24h)")
		*maxLifetime = defaultMaxLifetime
		return func() error {
			if *maxLifetime <= 0 {
				return usageErrorf("remove", "-max-lifetime %s is not positive: give the Manager's MaxLifetime (else its MaxAge), such as 720h for 30 days", *maxLifetime)
			}
			return nil
		}
	}
	remove := func(ring *cookiesession.KeyRing, id uint32, path string) error {
		window := *maxLifetime
		now := time.Now()
		var known bool
		note, known = removalNote(ring, id, now, window) // before Remove settles the promote_at it reads
		if !known {
			note = recentChangeNote(ring, id, path, now, window)
		}
		if note == "" {
			note = imminentPromotionNote(ring, id, now)
		}
		return ring.Remove(id)
	}
	if err := changeKey(e, "remove", removeUsage, args, flags, remove); err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(e.stderr, note)
	}
	return nil
}

// removalNote returns remove's note for key id if it stopped sealing less
// than window (the longest a session lives) before now, by the promote_at at which another key
// took over from it, or "", and whether ring holds such a promote_at,
// recent or not. It moves ring's clock and restores time.Now.
func removalNote(ring *cookiesession.KeyRing, id uint32, now time.Time, window time.Duration) (note string, known bool) {
	defer ring.SetClock(nil)
	for _, k := range ring.Keys() {
		at := k.PromoteAt
		if k.ID == id || at.IsZero() || at.After(now) {
			continue
		}
		ring.SetClock(func() time.Time { return at.Add(-time.Nanosecond) })
		if ring.Primary() != id {
			continue
		}
		if now.Sub(at) >= window {
			return "", true
		}
		ring.SetClock(func() time.Time { return at })
		ago := now.Sub(at).Round(time.Minute).String()
		if now.Sub(at) < time.Minute {
			ago = "less than a minute" // not "0s", as if it had never sealed
		}
		return fmt.Sprintf("cookiesession remove: note: key %s stopped sealing %s ago, when key %s took over at its promote_at %s; sessions sealed under it that have not expired will be refused (unknown key id %s) and their users signed out, and those live up to -max-lifetime (%s) after it was last primary; to undo, ship the ring as it was before this remove",
			cookiesession.FormatKeyID(id), ago, cookiesession.FormatKeyID(ring.Primary()), at.UTC().Format(time.RFC3339), cookiesession.FormatKeyID(id), window), true
	}
	return "", false
}

// imminentPromotionNote returns remove's note for key id if it is
// scheduled to become the primary less than minPromotionLead after now,
// the least add schedules: the file that cancels the rotation cannot reach
// every instance first, and those that promote the key before it arrives
// seal sessions that it then signs out. Else "".
func imminentPromotionNote(ring *cookiesession.KeyRing, id uint32, now time.Time) string {
	at := pendingPromotion(ring, id, now)
	if at.IsZero() || at.Sub(now) >= minPromotionLead {
		return ""
	}
	return fmt.Sprintf("cookiesession remove: note: key %s is scheduled to become the primary at %s, only %s from now: an instance whose clock runs up to 60 s ahead, or that loads this file after then, seals under it first, and the sessions it seals are refused (unknown key id %s) and their users signed out once this file reaches it; to cancel a rotation, remove its key at least a minute before its promote_at; if this file cannot reach every instance before then, ship the ring as it was before this remove and let the key take over",
		cookiesession.FormatKeyID(id), at.UTC().Format(time.RFC3339Nano), at.Sub(now).Round(time.Second), cookiesession.FormatKeyID(id))
}

// recentChangeNote returns remove's note for key id when the ring file
// at path, which records no time for a promote, was changed less than
// window before now: that change may have been the promote that
// took over from id, which instances that have not reloaded the file still
// seal under, and whose last sessions are live. A key scheduled to become
// the primary later has never sealed, and gets none.
func recentChangeNote(ring *cookiesession.KeyRing, id uint32, path string, now time.Time, window time.Duration) string {
	if !pendingPromotion(ring, id, now).IsZero() {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || now.Sub(info.ModTime()) >= window {
		return ""
	}
	ago := "less than a minute"
	if d := now.Sub(info.ModTime()); d >= time.Minute {
		ago = d.Round(time.Minute).String()
	}
	key := cookiesession.FormatKeyID(id)
	ring.SetClock(info.ModTime) // the primary the file named when it was written
	defer ring.SetClock(nil)
	return fmt.Sprintf("cookiesession remove: note: %s was changed %s ago (%s), and a ring file records no time for a promote: if that change promoted key %s over key %s, instances that have not loaded it yet still seal new sessions under %s, and every session it sealed stays live for up to -max-lifetime (%s) after it was sealed; removed now, those are refused (unknown key id %s) and their users signed out. The rotation runbook waits until every instance has the promote and MaxLifetime (else MaxAge) has passed since, whether or not the metric opened for %s still rises; to undo, ship the ring as it was before this remove",
		path, ago, info.ModTime().UTC().Format(time.RFC3339), cookiesession.FormatKeyID(ring.Primary()), key, key, window, key, key)
}

// changeKey runs promote and remove, which differ only in the ring method,
// which is given the ring file's path too, and in the flags that flags
// (if not nil) defines beside -ring and -id; the func it returns checks
// them once parsed.
func changeKey(e *env, name, usage string, args []string, flags func(*flag.FlagSet) func() error, change func(*cookiesession.KeyRing, uint32, string) error) error {
	fs := newFlagSet(name)
	ringPath := fs.String("ring", "", "key-ring `FILE` to change")
	idText := fs.String("id", "", "the key's `ID`, 8 hex digits")
	check := func() error { return nil }
	if flags != nil {
		check = flags(fs)
	}
	if err := e.parse(fs, usage, args); err != nil {
		return err
	}
	if err := checkArgs(fs, "ring", "id"); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	id, err := cookiesession.ParseKeyID(*idText)
	if err != nil {
		return &usageError{cmd: name, msg: err.Error()}
	}
	ring, err := e.editRing(*ringPath, func(ring *cookiesession.KeyRing) error {
		if !ring.Has(id) {
			// A mistyped id, or the wrong file: the library's "no key in the
			// ring" names neither the file nor the keys it holds.
			return fmt.Errorf("no key %s in %s, which holds %s: take the id from list",
				cookiesession.FormatKeyID(id), *ringPath, keyIDs(ring))
		}
		return change(ring, id, *ringPath)
	})
	if err != nil {
		return err
	}
	if name == "promote" {
		e.noteLaterPromotions("promote", ring, id, time.Now())
	}
	return nil
}

// noteLaterPromotions says on stderr when another key scheduled after
// from will take over from key id, which becomes the primary at from:
// neither promote nor add cancels it. For add, it also says when a key is
// scheduled at the same instant: the key listed last, the one added, takes
// over then, and that one never seals.
func (e *env) noteLaterPromotions(cmd string, ring *cookiesession.KeyRing, id uint32, from time.Time) {
	for _, k := range ring.Keys() {
		other, at := cookiesession.FormatKeyID(k.ID), k.PromoteAt.UTC().Format(time.RFC3339Nano)
		switch {
		case k.ID == id:
		case from.Before(k.PromoteAt):
			fmt.Fprintf(e.stderr, "cookiesession %s: note: key %s is scheduled to become the primary at %s and will take over from %s then; remove it to cancel that\n",
				cmd, other, at, cookiesession.FormatKeyID(id))
		case cmd == "add" && from.Equal(k.PromoteAt):
			fmt.Fprintf(e.stderr, "cookiesession add: note: key %s is scheduled to become the primary at the same instant, %s; of keys due together the one listed last, %s, takes over, so %s will never seal: remove one of the two\n",
				other, at, cookiesession.FormatKeyID(id), other)
		}
	}
}

const listUsage = `usage: cookiesession list [-ring FILE|-] [-json]

List the keys of the ring in FILE (stdin for -, $COOKIESESSION_KEYS when
-ring is not given), never their secrets, one per line:

  ID        STATE             PROMOTE_AT  FINGERPRINT

STATE is primary (seals and opens), open-only (opens only), scheduled
(open-only until PROMOTE_AT, then primary) or primary-by-clock (its
PROMOTE_AT has passed, so every instance that has loaded this ring seals
with it). Scheduled and primary-by-clock are read by this machine's
clock: an instance whose clock differs switches at another moment (see
README, "Clocks apart"). PROMOTE_AT is "-" when none is set. FINGERPRINT
is a one-way digest of the key's secret (12 hex digits; FORMAT.md section
6), which reveals nothing of it: compare it across the rings of every
instance that serves a cookie, since two secrets under one ID refuse each
other's sessions.
`

// keyListing is one key in list's output.
type keyListing struct {
	ID          string     `json:"id"`
	State       string     `json:"state"`
	PromoteAt   *time.Time `json:"promote_at,omitempty"`
	Fingerprint string     `json:"fingerprint"`
}

func cmdList(e *env, args []string) error {
	fs := newFlagSet("list")
	ringPath := fs.String("ring", "", ringFlagHelp)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := e.parse(fs, listUsage, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := refuseEmptyRing(fs); err != nil {
		return err
	}
	ring, err := e.readRing("list", *ringPath)
	if err != nil {
		return err
	}
	listing := listKeys(ring, time.Now())
	if *asJSON {
		return writeJSON(e, listing)
	}
	return writeKeyTable(e, listing)
}

func listKeys(ring *cookiesession.KeyRing, now time.Time) []keyListing {
	ring.SetClock(func() time.Time { return now })
	infos := ring.Keys()
	out := make([]keyListing, len(infos))
	for i, k := range infos {
		out[i] = keyListing{ID: cookiesession.FormatKeyID(k.ID), State: keyState(k, now), Fingerprint: k.Fingerprint}
		if !k.PromoteAt.IsZero() {
			at := k.PromoteAt.UTC()
			out[i].PromoteAt = &at
		}
	}
	return out
}

func keyState(k cookiesession.KeyInfo, now time.Time) string {
	switch {
	case k.Primary && !k.PromoteAt.IsZero():
		return "primary-by-clock"
	case k.Primary:
		return "primary"
	case !k.PromoteAt.IsZero() && now.Before(k.PromoteAt):
		return "scheduled"
	default:
		// Includes a key whose time has passed but was overtaken by a
		// later scheduled key: it opens only.
		return "open-only"
	}
}

func writeKeyTable(e *env, listing []keyListing) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tPROMOTE_AT\tFINGERPRINT")
	for _, k := range listing {
		at := "-"
		if k.PromoteAt != nil {
			at = k.PromoteAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.State, at, k.Fingerprint)
	}
	return tw.Flush()
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
