package cookiesession

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession/internal/secrettext"
)

// Loading the key ring from the environment or a file, and reloading it
// (ringwatch.go follows the file while the server runs).

// LoadKeyRingEnv parses the ring from the COOKIESESSION_KEYS environment
// variable, which holds the ring's JSON text. A value that looks like a
// file's path instead, or that holds the ring's text quoted (or with a
// stray quote at one end), escaped, in
// base64 (once or twice), as a whole .env line (the line itself quoted
// or not, or with a stray quote before the name), as a string inside a
// JSON document (a secret manager's response) or with its double quotes
// removed (by a shell or systemd), is refused with an error that says so
// and how to set it, and so are an empty value, which is not called
// unset, and one that ends before the ring does (the first line of a
// ring written on several lines). When the variable is not set, the error
// names a variable that looks meant to be it ("COOKIESESSION_KEYS with
// its quote, as docker run --env-file reads a line quoted whole; the name
// in lower case), if the environment has one.
func LoadKeyRingEnv() (*KeyRing, error) {
	data, ok := os.LookupEnv(EnvKeys)
	switch {
	case !ok:
		if name := nearEnvKeys(os.Environ()); name != "" {
			return nil, fmt.Errorf("cookiesession: %s is not set, but the environment has a variable named %q, which looks meant to be it: name it %s exactly (a line of a file read by docker run --env-file keeps its quotes, and a quote before the name is part of the name; names are case-sensitive)", EnvKeys, name, EnvKeys)
		}
		return nil, fmt.Errorf("cookiesession: %s is not set: set it to the key ring's JSON text, the same on every instance (%s=\"$(cat ring.json)\"; cookiesession keygen -out ring.json makes a ring)", EnvKeys, EnvKeys)
	case data == "":
		return nil, errEnvEmpty
	}
	st, err := parseRingState([]byte(data))
	if err == nil {
		r := new(KeyRing)
		r.state.Store(st)
		return r, nil
	}
	// The value is never echoed: it may be a mangled secret.
	if wrapping := ringWrapping(data, fromEnv); wrapping != "" {
		return nil, fmt.Errorf("cookiesession: %s holds the key ring %s", EnvKeys, wrapping)
	}
	if errors.Is(err, errRingTruncated) {
		return nil, fmt.Errorf("cookiesession: %s ends before the key ring does (length %d): %s", EnvKeys, len(data), envTruncatedFix)
	}
	if kind := unexpanded(data); kind != "" {
		return nil, fmt.Errorf(`cookiesession: %s holds a %s that no shell expanded: inside single quotes, or in a file that no shell reads (docker run --env-file, a compose env_file, systemd's Environment= and EnvironmentFile=, a Kubernetes manifest), it stays as written: expand it in a shell, in double quotes (%s="$(cat ring.json)"), or write the ring's text itself there, on one line (jq -c . ring.json)`, EnvKeys, kind, EnvKeys)
	}
	// A secret first: one in base64 with no = at its end (openssl rand
	// -base64 48, or 32 bytes unpadded) may hold a /, as a path does.
	if secret := oneSecret(data, fromEnv); secret != "" {
		return nil, fmt.Errorf("cookiesession: %s %s", EnvKeys, secret)
	}
	if looksLikePath(data) {
		return nil, fmt.Errorf(`cookiesession: %s looks like a file path, not the key ring's JSON text: set it to the file's content (%s="$(cat ring.json)"), or load the file with LoadKeyRingFile (the CLI: -ring FILE)`, EnvKeys, EnvKeys)
	}
	return nil, fmt.Errorf("%w (from %s)", err, EnvKeys)
}

// unexpanded names the shell expansion that s, a variable's value, is
// written as (a command substitution or a variable reference, perhaps
// inside quotes), or returns "". Nothing of s is echoed.
func unexpanded(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		s = s[1 : len(s)-1]
	}
	switch {
	case strings.HasPrefix(s, "$("), strings.HasPrefix(s, "`"):
		return "command substitution ($(...) or `...`)"
	case strings.HasPrefix(s, "${"), strings.HasPrefix(strings.ToLower(s), "$env:"):
		return "variable reference (${...}, $env:...)"
	case len(s) > 1 && s[0] == '$' && (s[1] == '_' || 'A' <= s[1] && s[1] <= 'Z' || 'a' <= s[1] && s[1] <= 'z'):
		return "variable reference ($NAME)"
	case len(s) > 2 && s[0] == '%' && s[len(s)-1] == '%' && !strings.ContainsAny(s, " {"):
		return "variable reference (%NAME%, as cmd.exe writes it)"
	}
	return ""
}

// nearEnvKeys returns the name of a variable in environ (NAME=value
// entries) that was likely meant to be EnvKeys, or "": the same name in
// another case, without its underscore or its last S, or inside quotes or
// after export (a .env line taken whole: docker run --env-file keeps
// "COOKIESESSION_KEYS={...}" with its quotes, and its first quote is part
// of the name). The value is never read: it may be a secret.
func nearEnvKeys(environ []string) string {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		bare := strings.Trim(strings.TrimSpace(name), `"'`)
		bare = strings.TrimSpace(strings.TrimPrefix(bare, "export "))
		letters := strings.ToUpper(strings.NewReplacer("_", "", "-", "", " ", "").Replace(bare))
		if name != EnvKeys && (letters == "COOKIESESSIONKEYS" || letters == "COOKIESESSIONKEY") {
			return name
		}
	}
	return ""
}

// envTruncatedFix names how a variable comes to hold the start of a ring:
// the CLI writes the ring on several lines, and a file of NAME=value lines
// keeps the first, "{"; a shell splits an unquoted $(cat ring.json) at
// the first space. "A truncated file" would send the operator to a file
// that is whole.
const envTruncatedFix = "a ring written on several lines (as the CLI writes it) keeps only its first line in a file of NAME=value lines (docker run --env-file, systemd's EnvironmentFile=), and an unquoted $(cat ring.json) among a command's arguments is cut at the first space: put the ring on one line (jq -c . ring.json) in such a file, or quote the expansion (\"$(cat ring.json)\")"

// errEnvEmpty is LoadKeyRingEnv's error for a variable set to nothing:
// "not set" would send the operator looking at a line that does set it.
var errEnvEmpty = fmt.Errorf(`cookiesession: %s is set but empty: set it to the key ring's JSON text (%s="$(cat ring.json)" sets it empty when the file cannot be read)`, EnvKeys, EnvKeys)

// maxRingFile bounds a key-ring file read.
const maxRingFile = 1 << 20

// LoadKeyRingFile parses the ring from a file. The ring remembers a digest
// of the text it parsed: WatchFile reloads when the file differs from it.
// A file that holds the ring wrapped as LoadKeyRingEnv says (a JSON
// string, base64, a secret manager's JSON response) is refused with an
// error that names the wrapping and the fix. On Unix, a file mounted alone
// whose source was replaced is loaded, with a Warn and the reload status
// set (see ReloadFile): refusing it would stop a restarting process.
func LoadKeyRingFile(path string) (*KeyRing, error) {
	st, err := loadRingState(path)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	r.noteReload(nil, true)
	if err := sourceGone(path, os.Stat); err != nil {
		// A process restarted in its container (a supervisor, a reloading
		// dev server) on a file mounted alone whose source was replaced
		// loads the old ring. It is in force; the reload status says why.
		r.noteReload(err, false)
		slog.Warn("cookiesession: LoadKeyRingFile loaded the old keys of a file mounted alone whose source was replaced", "file", path, "error", err.Error())
	}
	return r, nil
}

func loadRingState(path string) (*ringState, error) {
	if err := textForPath(path); err != nil {
		return nil, err
	}
	data, err := readRingFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	return parseRingText(data, path)
}

// parseRingText parses data read from path and records its digest.
func parseRingText(data []byte, path string) (*ringState, error) {
	st, err := parseRingState(data)
	if err != nil {
		// The text is never echoed: it may be a mangled secret.
		if wrapping := ringWrapping(string(data), fromFile); wrapping != "" {
			return nil, fmt.Errorf("cookiesession: key ring file %s holds the key ring %s", path, wrapping)
		}
		if secret := oneSecret(string(data), fromFile); secret != "" {
			return nil, fmt.Errorf("cookiesession: key ring file %s %s", path, secret)
		}
		if kind := unexpanded(string(data)); kind != "" {
			return nil, fmt.Errorf("cookiesession: key ring file %s holds a %s that nothing expanded (a template not rendered, such as an envsubst or a Helm value): write the ring's text itself to the file (cookiesession keygen -out FILE)", path, kind)
		}
		return nil, fmt.Errorf("%w (from %s)", err, path)
	}
	st.source = sha256.Sum256(data)
	return st, nil
}

// textForPath returns an error, which does not show path, when path
// names no file and holds a key ring's text (as is or in base64) or a
// key's secret as a ring holds it: LoadKeyRingFile(os.Getenv(EnvKeys)).
// Every error that names the path would put the secrets in a log, and
// WatchFile's in the metrics too.
func textForPath(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	what := "a key ring's text"
	if !secrettext.Ring(path) {
		if !secrettext.Secret(path) {
			return nil
		}
		what = "a key's secret"
	}
	return fmt.Errorf("cookiesession: reading key ring: the path given is %s (%d bytes, not shown), not a file's path: give a ring's text to ParseKeyRing, or set %s to it and call LoadKeyRingEnv; LoadKeyRingFile, ReloadFile and WatchFile take the path of the file that holds it", what, len(path), EnvKeys)
}

// readRingFile reads path until two reads in a row agree, and returns
// that text. A writer that rewrites the file in place (cp, cat >, an
// editor or a templating agent that truncates then writes) can be caught
// mid-write, and a text read in pieces across the rewrite can be the
// start of the old text joined to the end of the new: with keys of equal
// length, that is a valid ring neither held, one key short, which would
// sign its users out. The JSON form itself refuses any prefix of a text
// (the object must close, and nothing may follow it), so a writer that
// is not done is caught by the parser, and one whose text changed during
// the read by the comparison. A file replaced by rename between two reads
// agrees with the next read. A path that is not a regular file (a pipe,
// /dev/stdin) is read once: it cannot be read again.
func readRingFile(path string) ([]byte, error) {
	return readSettled(path, readRingOnce)
}

// settleReads is how many reads readSettled makes at most.
const settleReads = 4

// readSettled reads path with read, as readRingFile says. A read that
// finds no file is made once more at once: a Kubernetes volume's update
// swaps its ..data link, then deletes the old version directory, and an
// open that followed the link before the swap finds the file gone.
func readSettled(path string, read func(string) ([]byte, error)) ([]byte, error) {
	read = againIfGone(read)
	last, err := read(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return last, nil
	}
	for range settleReads - 1 {
		next, err := read(path)
		if err != nil {
			clear(last)
			return nil, err
		}
		same := bytes.Equal(last, next)
		clear(last)
		if last = next; same {
			return last, nil
		}
	}
	clear(last)
	return nil, fmt.Errorf("cookiesession: reading key ring: %s changed at each of %d reads (a writer rewriting it in place): write the ring to a temporary file and rename it over %s, as the CLI does (WatchFile tries again at its next tick)", path, settleReads, path)
}

// againIfGone returns read, made once more when it finds no file.
func againIfGone(read func(string) ([]byte, error)) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		data, err := read(path)
		if errors.Is(err, fs.ErrNotExist) {
			data, err = read(path)
		}
		return data, err
	}
}

func readRingOnce(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w%s", err, openFix(err, path))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("cookiesession: reading key ring: %s is a directory, not the ring's file: name the file inside it (a Kubernetes Secret volume, a systemd $CREDENTIALS_DIRECTORY and /run/secrets hold one file per secret, named after its key or credential)", path)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxRingFile+1)); err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w", err)
	}
	if b.Len() > maxRingFile {
		return nil, fmt.Errorf("cookiesession: key ring file %s is larger than %d bytes", path, maxRingFile)
	}
	return b.Bytes(), nil
}

// openFix returns the fix for a ring file at path that os.Open refused
// with err, or "": "no such file or directory" alone does not say where
// such a file comes from.
func openFix(err error, path string) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return permissionFix()
	case linkLoop(err):
		return ": the symbolic links at the path form a loop: point them at the ring's file"
	case !errors.Is(err, fs.ErrNotExist):
		return ""
	}
	if version := kubeVersionDir(path); version != "" {
		return ": the path runs through " + version + ", a Kubernetes volume's version directory, which the kubelet deletes at the volume's next update (a path resolved with readlink -f or filepath.EvalSymlinks): name the file under the volume's mount path, whose ..data link follows every update"
	}
	const kube = "a Kubernetes Secret volume drops a key's file when the key or the Secret is deleted"
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		fix := ": it is a symbolic link whose target does not exist: restore the file it names, or point the link at the ring's file"
		if target, err := os.Readlink(path); err == nil && strings.HasPrefix(target, "..data/") {
			// A Secret volume's: the kubelet swaps ..data, then removes
			// the links of the keys gone.
			fix += "; " + kube
		}
		return fix
	}
	return ": check the path (a systemd credential is at $CREDENTIALS_DIRECTORY/NAME, a Docker secret at /run/secrets/NAME); " + kube
}

// kubeVersionDir returns the element of path that names a Kubernetes
// volume's version directory (..2026_12_02_10_00_00.123456789), or "".
// The kubelet writes each update to a new one and deletes the old: a
// path resolved through ..data names a file that goes with the next
// update, and is never updated itself.
func kubeVersionDir(path string) string {
	for elem := range strings.SplitSeq(filepath.ToSlash(path), "/") {
		year, rest, ok := strings.Cut(strings.TrimPrefix(elem, ".."), "_")
		if ok && len(elem) > 2 && elem[:2] == ".." && len(year) == 4 && strings.Trim(year, "0123456789") == "" && strings.Contains(rest, ".") {
			return elem
		}
	}
	return ""
}

// permissionFix returns the fix for a ring file the process may not
// read: "permission denied" alone does not say whose permission.
func permissionFix() string {
	who := "this process's user"
	if uid := os.Geteuid(); uid >= 0 { // -1 on Windows
		who = fmt.Sprintf("this process's user (uid %d)", uid)
	}
	return ": " + who + " must be able to read the file and search every directory above it: give it the file (chown), or a group it is in (chgrp) with mode 0440; a systemd credential ($CREDENTIALS_DIRECTORY) is readable by the unit's User= only, and a Docker secret takes uid, gid and mode in its long syntax"
}

// ReloadFile re-reads path and swaps in its keys. If the file cannot be
// read or parsed the ring keeps its current keys and the error is returned;
// either way the outcome is recorded in the ring's [ReloadStatus].
//
// A reload that succeeds but signs users out is logged at Warn through
// slog.Default, naming the key: one that removes the key that was sealing
// (the primary, by its promote_at too, before the reload; a rollback or a
// stale copy), since every session sealed under it is then refused; and
// one after which a key seals that the ring did not hold before (its
// promote_at passed before this instance saw it, or it came in as the
// primary), since instances without it refuse what it seals; and one
// that removes a key whose promote_at is still to come (a rollback, a
// stale copy), since this instance will not switch to it then while
// instances that kept it will; and one that removes any other key,
// naming the ids and how many, since a restored backup that holds fewer
// keys signs out every user of the missing ones, and the runbook's remove
// step is the only removal that should. WatchFile and Replace log the same.
//
// A file in which a key id the ring holds has another secret is refused
// like a file that does not parse, naming the id: every session sealed
// under that id would be refused (a ring rebuilt by position, or copied
// from another environment with the same ids). A key's secret is changed
// by adding a key with a new id, never in place.
//
// On Unix, a path that shows the text in force from a file no directory
// holds any more is a failure too: a file mounted alone (a Kubernetes
// subPath, docker run -v FILE:FILE) whose source was replaced, which never
// shows a new ring. New text is loaded whatever the link count says.
func (r *KeyRing) ReloadFile(path string) error {
	st, err := loadRingState(path)
	if err == nil && st.source == r.load().source {
		err = sourceGone(path, os.Stat)
	}
	if err != nil {
		r.noteReload(err, false)
		return err
	}
	if err := r.swap(st, path); err != nil {
		r.noteReload(err, false)
		return err
	}
	r.noteReload(nil, true)
	return nil
}

// sourceGone returns an error if path shows a file that no directory
// holds any more: a mount of that one file (a Kubernetes subPath, docker
// run -v FILE:FILE, a Compose secret's file:) whose source was replaced
// (the kubelet's update, the CLI's rename) or deleted. Such a path keeps
// the old text for good, and a reload would find nothing changed and say
// nothing while the fleet takes the new ring.
//
// A path through a Kubernetes volume's ..data link that stat resolves just
// as the kubelet deletes the old version directory, after the swap, shows
// the old file with no link left: a second look finds the new one, where a
// file mounted alone stays unlinked.
func sourceGone(path string, stat func(string) (fs.FileInfo, error)) error {
	for range 2 {
		fi, err := stat(path)
		if err != nil || !fi.Mode().IsRegular() || !unlinked(fi) {
			return nil
		}
	}
	return fmt.Errorf("cookiesession: key ring file %s was replaced or deleted where it comes from, and this path still shows the old file, which never changes: it is a mount of that one file (a Kubernetes subPath, docker run -v FILE:FILE, a Compose secret's file:); mount its directory and name the file inside it, or recreate the container to load the new ring", path)
}

// ReloadStatus is how the reloads of a key ring from its file went, as
// [Metrics] reports it: an instance whose reload fails keeps running its
// old keys while the rest of the fleet takes the new ones, so an operator
// alerts on Error (or on Failures rising) rather than waiting for a key
// missing from the ring. Only LoadKeyRingFile, ReloadFile and WatchFile
// set it; a ring from the environment or NewKeyRing has the zero status,
// and Replace and the in-memory writers (Add, Promote, ...) leave it as
// it is.
type ReloadStatus struct {
	// LastSuccess is when the keys in force were read from the ring's
	// file, by the ring's clock (see SetClock), or zero if they never
	// were. ReloadFile reads the file each time; WatchFile reads it in
	// only when its content changed.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Error is why the last reload failed, for as long as the ring is
	// not its file's: "" again once a reload succeeds or WatchFile finds
	// the file back at the content in force. It names the file, never a
	// secret.
	Error string `json:"error,omitempty"`
	// Failures counts the reloads that failed since the ring was made.
	// WatchFile retries at every tick, and each failed try counts, so the
	// count rises for as long as the file stays bad.
	Failures uint64 `json:"failures"`
}

// noteReload records a reload's outcome: a failure (err), the file's keys
// read in (loaded), or the file found in step with the keys in force.
func (r *KeyRing) noteReload(err error, loaded bool) {
	now := r.now()
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	switch {
	case err != nil:
		r.reload.Error = err.Error()
		r.reload.Failures++
	case loaded:
		r.reload.Error, r.reload.LastSuccess = "", now
	default:
		r.reload.Error = ""
	}
}

// reloadStatus returns a copy of the ring's reload status.
func (r *KeyRing) reloadStatus() ReloadStatus {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	return r.reload
}

// swap publishes st, the keys of a reload from file ("" for Replace), and
// warns as ReloadFile says. It refuses st if a key id in both rings has
// another secret in st (see secretChanged).
func (r *KeyRing) swap(st *ringState, file string) error {
	r.mu.Lock()
	old := r.load()
	if err := secretChanged(old, st, file); err != nil {
		r.mu.Unlock()
		return err
	}
	if old != nil {
		cp := *st // st may be another ring's (Replace), which stays as it is
		st = &cp
		carryRemoved(old, st, r.now())
	}
	r.state.Store(st)
	if old != nil {
		r.noteSealing(old, st, r.now())
	}
	r.mu.Unlock()
	if old != nil { // a zero ring being filled sealed nothing
		warnSealingChange(old, st, r.now(), file)
	}
	return nil
}

// secretChanged returns an error if a key id of old has another secret in
// st: a ring rebuilt by position, or copied from another environment that
// uses the same ids. Tokens name their key by id alone, so taking st would
// refuse every session sealed under that id, as forged tokens are refused,
// and sign its users out with nothing but Debug lines to say why. Keeping
// old instead leaves the failure in ReloadStatus, where operators alert.
func secretChanged(old, st *ringState, file string) error {
	if old == nil {
		return nil
	}
	for _, k := range st.keys {
		was := old.lookup(k.id)
		if was == nil || subtle.ConstantTimeCompare(was.mat.secret[:], k.mat.secret[:]) == 1 {
			continue
		}
		from := ""
		if file != "" {
			from = " in " + file
		}
		return fmt.Errorf("cookiesession: key ring reload refused, keeping the keys in force: key %s has a different secret%s than the one in force, and every session sealed under it would be refused and its user signed out (a ring rebuilt or copied from another environment reuses the ids): put the key's secret back in the new ring; to change a key, add one with a new id (cookiesession add) and remove the old one once MaxAge (MaxLifetime, for sessions with a Lifetime of their own) has passed",
			FormatKeyID(k.id), from)
	}
	return nil
}

// warnSealingChange logs the reloads from old to st that sign users out at
// now, as ReloadFile describes.
func warnSealingChange(old, st *ringState, now time.Time, file string) {
	warn := func(msg string, k *ringKey, fix string) {
		attrs := []slog.Attr{slog.String("key_id", FormatKeyID(k.id))}
		if !k.promoteAt.IsZero() {
			attrs = append(attrs, slog.String("promote_at", k.promoteAt.UTC().Format(time.RFC3339Nano)))
		}
		if file != "" {
			attrs = append(attrs, slog.String("file", file))
		}
		slog.Default().LogAttrs(context.Background(), slog.LevelWarn, msg, append(attrs, slog.String("fix", fix))...)
	}
	was := old.primaryAt(now)
	if st.lookup(was.id) == nil {
		warn("cookiesession: key ring reload removed the key that was sealing: every session sealed under it will be refused (unknown key id) and its user signed out",
			was, "if the removal was not meant (a rollback, a stale copy), put the key back: sessions not yet replaced open again")
	}
	if is := st.primaryAt(now); old.lookup(is.id) == nil {
		fix := "add a key to every instance before it becomes the primary: schedule it with a promote_at they all reach later"
		if !is.promoteAt.IsZero() {
			fix = dueOnArrivalFix(now)
		}
		warn("cookiesession: key ring reload made a key seal at once that was not in the ring before: instances that do not hold it yet refuse the sessions it seals",
			is, fix)
	}
	for _, k := range old.scheduled {
		if now.Before(k.promoteAt) && st.lookup(k.id) == nil {
			warn("cookiesession: key ring reload removed a key before its scheduled promotion: this instance will not switch to it at promote_at; instances that still hold it will, and this one will refuse the sessions they seal",
				k, "if the removal was not meant (a rollback, a stale copy), put the key back; to cancel the rotation, remove the key from every instance's ring before its promote_at")
		}
	}
	warnRemovedKeys(old, st, was, now, file)
}

// dueOnArrivalFix is the fix for a key whose promote_at had passed, by
// this instance's clock (now), when the file brought it. The operator did
// schedule it ahead: either the file took longer than that to arrive, or
// this instance's clock runs ahead of the fleet's and it seals under the
// key alone until the others reach promote_at. The fix names the clock
// reading, which the log line's own time may not be (an injected clock).
func dueOnArrivalFix(now time.Time) string {
	return "its promote_at had already passed by this instance's clock (" + now.UTC().Format(time.RFC3339) +
		") when the file arrived: if the fleet's clocks have not reached promote_at yet, this instance's clock runs ahead and it alone seals under the key until they do: synchronise its clock (NTP); otherwise the file arrived late: schedule the next promote_at further ahead, so that the file reaches every instance first"
}

// warnRemovedKeys logs the open-only keys in old but not in st that
// warnSealingChange does not already name (was, the key that was sealing,
// and keys whose promote_at is to come). Removing them is the runbook's
// last step; an old backup restored removes them too, while their
// sessions live, and nothing else would say so until users were signed
// out.
func warnRemovedKeys(old, st *ringState, was *ringKey, now time.Time, file string) {
	var ids []string
	for _, k := range old.keys {
		if st.lookup(k.id) == nil && k.id != was.id && !now.Before(k.promoteAt) {
			ids = append(ids, FormatKeyID(k.id))
		}
	}
	if len(ids) == 0 {
		return
	}
	attrs := []slog.Attr{slog.String("key_ids", strings.Join(ids, ",")), slog.Int("removed", len(ids)), slog.Int("kept", len(st.keys))}
	if file != "" {
		attrs = append(attrs, slog.String("file", file))
	}
	attrs = append(attrs, slog.String("fix", "nothing if this is the rotation's remove step and each key's opened count stopped rising before it; if not (an old backup restored, a stale copy), put the keys back: sessions not yet replaced open again"))
	slog.Default().LogAttrs(context.Background(), slog.LevelWarn, "cookiesession: key ring reload removed keys: every session sealed under them is refused from now on (unknown key id) and its user signed out", attrs...)
}
