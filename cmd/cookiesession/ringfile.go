package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/seed-ff2808ae/cookiesession"
)

// envKeys is the environment variable list and inspect read the ring from
// when -ring is not given, as LoadKeyRingEnv does.
const envKeys = "COOKIESESSION_KEYS"

// ringFlagHelp describes -ring for the commands that only read a ring.
const ringFlagHelp = "key-ring `FILE` to read, or - for stdin (default: $" + envKeys + ")"

// refuseEmptyRing refuses a -ring that is given but empty, such as a
// script's unset variable: read as "not given", it would silently use
// $COOKIESESSION_KEYS instead of the file the operator meant.
func refuseEmptyRing(fs *flag.FlagSet) error {
	empty := false
	fs.Visit(func(f *flag.Flag) { empty = empty || (f.Name == "ring" && f.Value.String() == "") })
	if empty {
		return usageErrorf(fs.Name(), "-ring is empty; omit it to read $%s", envKeys)
	}
	return nil
}

// readRing loads the ring list and inspect read: from the file path, from
// stdin for "-", or from COOKIESESSION_KEYS when path is empty.
func (e *env) readRing(cmd, path string) (*cookiesession.KeyRing, error) {
	switch path {
	case "":
		if os.Getenv(envKeys) == "" {
			return nil, usageErrorf(cmd, "-ring is required when %s is not set", envKeys)
		}
		return cookiesession.LoadKeyRingEnv()
	case "-":
		data, err := io.ReadAll(io.LimitReader(e.stdin, maxRingInput+1))
		if err != nil {
			return nil, fmt.Errorf("reading the key ring from stdin: %w", err)
		}
		if len(data) > maxRingInput {
			return nil, fmt.Errorf("stdin holds more than %d bytes: not a key ring", maxRingInput)
		}
		ring, err := cookiesession.ParseKeyRing(data)
		if err != nil {
			return nil, fmt.Errorf("%w (from stdin)", err)
		}
		return ring, nil
	default:
		return cookiesession.LoadKeyRingFile(path)
	}
}

// maxRingInput bounds a ring read from stdin, as the package bounds a file.
const maxRingInput = 1 << 20

// ringFileMode is the mode of every new file written: the text form holds
// the secrets.
const ringFileMode fs.FileMode = 0o600

// encodeRing returns the ring's text form, indented for people who diff
// ring files, with a final newline.
func encodeRing(ring *cookiesession.KeyRing) ([]byte, error) {
	compact, err := ring.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("formatting key ring: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// saveRing replaces path with the ring's text form, atomically.
func (e *env) saveRing(path string, ring *cookiesession.KeyRing) error {
	data, err := encodeRing(ring)
	if err != nil {
		return err
	}
	return e.writeFileAtomic(path, data)
}

// writeFileAtomic replaces path with data so that a reader (a server
// watching the file) sees either the old content or the new, never a
// partial file: the data goes to a temporary file in the same directory,
// is synced, and is renamed over path. A symbolic link at path is followed,
// so the link survives and its target is replaced. The new file keeps the
// old one's owner, group and their permissions, so a server that reads it
// as its owner or through its group still can; permissions for others are
// dropped, since the file holds secrets, and a note says so.
func (e *env) writeFileAtomic(path string, data []byte) error {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode := ringFileMode
	old, statErr := os.Stat(target)
	if statErr == nil {
		mode = old.Mode().Perm() &^ 0o007
		if dropped := old.Mode().Perm() & 0o007; dropped != 0 {
			fmt.Fprintf(e.stderr, "cookiesession: note: %s was readable by others (mode %04o); it is now %04o, so a server that reads it as a user outside its owner and group no longer can\n",
				path, uint32(old.Mode().Perm()), uint32(mode))
		}
	}
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	err = writeAndSync(f, data, mode)
	if err == nil && statErr == nil {
		if err = keepOwner(tmp, old); err != nil {
			err = fmt.Errorf("%w; run the command as the file's owner or as root, or the server may no longer read it", err)
		}
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// createFileExclusive writes data to a new file at path and fails if path
// exists: keygen must never clobber a ring that holds live keys.
func createFileExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, ringFileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; pass -force to replace it", path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := writeAndSync(f, data, ringFileMode); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// writeAndSync writes data to f with mode, syncs and closes it. The
// explicit Chmod makes the mode exact whatever the umask.
func writeAndSync(f *os.File, data []byte, mode fs.FileMode) error {
	err := f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename or create in dir durable. It is best effort: some
// platforms cannot open or sync a directory, and the file itself is
// already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
