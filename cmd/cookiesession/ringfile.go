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
	"runtime"
	"syscall"
	"time"

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
		if _, ok := os.LookupEnv(envKeys); !ok {
			return nil, usageErrorf(cmd, "-ring is required when %s is not set", envKeys)
		}
		return cookiesession.LoadKeyRingEnv() // set but empty: it says so
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

// editRing loads the ring in path, applies change to it and writes it
// back, all under path's lock (see replaceFile), and returns the ring.
func (e *env) editRing(path string, change func(*cookiesession.KeyRing) error) (*cookiesession.KeyRing, error) {
	var ring *cookiesession.KeyRing
	err := e.replaceFile(path, func() ([]byte, error) {
		var err error
		if ring, err = cookiesession.LoadKeyRingFile(path); err != nil {
			return nil, err
		}
		if err := change(ring); err != nil {
			return nil, err
		}
		return encodeRing(ring)
	})
	return ring, err
}

// writeFileAtomic replaces path with data under path's lock.
func (e *env) writeFileAtomic(path string, data []byte) error {
	return e.replaceFile(path, func() ([]byte, error) { return data, nil })
}

// lockWait is how long a command waits for another's lock on a ring file.
// An edit holds it for milliseconds, so a longer wait means a command was
// killed while holding it.
var lockWait = 2 * time.Second

// replaceFile replaces path with the bytes content returns, so that a
// reader (a server watching the file) sees either the old file or the new,
// never a partial one. The new bytes go to path's lock file, path+".lock"
// in the same directory, created only if absent, then synced and renamed
// over path. content runs while the lock is held, so an edit reads the
// file it replaces: two commands changing one ring at once (a cron job's
// add and an operator's promote) would otherwise both read the same ring,
// and the later rename would drop the earlier one's change without a word.
//
// A symbolic link at path is followed (see linkTarget), so the link
// survives and its target is replaced. The new file keeps the old one's
// owner, group and their permissions, so a server that reads it as its
// owner or through its group still can; permissions for others are
// dropped, since the file holds secrets, and a note says so. On Windows,
// which has no such mode (see replacementMode), the new file takes its
// directory's permissions (ACL), not the old file's.
func (e *env) replaceFile(path string, content func() ([]byte, error)) (err error) {
	if err := refuseNotRegular(path); err != nil {
		return err
	}
	target := linkTarget(path)
	lock := target + ".lock"
	f, err := createLock(path, lock)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // already closed once written; the error is moot
			os.Remove(lock)
		}
	}()
	data, err := content()
	if err != nil {
		return err
	}
	mode := ringFileMode
	old, statErr := os.Stat(target)
	if statErr == nil {
		var dropped fs.FileMode
		if mode, dropped, err = replacementMode(path, old.Mode(), runtime.GOOS == "windows"); err != nil {
			return err
		}
		if dropped != 0 {
			fmt.Fprintf(e.stderr, "cookiesession: note: %s was readable by others (mode %04o); it is now %04o, so a server that reads it as a user outside its owner and group no longer can\n",
				path, uint32(old.Mode().Perm()), uint32(mode))
		}
	}
	err = writeAndSync(f, data, mode)
	if err == nil && statErr == nil {
		if err = keepOwner(lock, old); err != nil {
			err = fmt.Errorf("%w; run the command as the file's owner or as root, or the server may no longer read it", err)
		}
	}
	if err == nil {
		err = renameOver(lock, target)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w; %s is unchanged%s", path, err, path, writeFix(err))
	}
	return syncDir(path, filepath.Dir(target))
}

// createFix returns the fix for a new ring file that could not be
// created in dir because of err, or "": "permission denied" alone does
// not say that the directory is what counts.
func createFix(err error, dir string) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf(": %s is on a read-only file system; write the ring where this user may (or print it to stdout, without -out) and put it in place where the mount comes from", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf(": this user may not create files in %s; name a file in a directory it may write, or run as a user who may write %s", dir, dir)
	}
	return writeFix(err)
}

// writeFix returns the fix for a ring file that could not be written
// because of err, or "".
func writeFix(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return ": free space on its file system (or raise the quota) and run again"
	case errors.Is(err, syscall.EIO):
		return ": the disk or file system reported an I/O error; check it before running again"
	case errors.Is(err, syscall.EBUSY):
		return ": it is a mount point, a file mounted alone (a Kubernetes subPath, docker run -v FILE:FILE, a Compose secret's file:), which a rename cannot replace: change the ring where the mount comes from, and mount its directory instead, since a file mounted alone never shows a new ring"
	}
	return ""
}

// replacementMode returns the mode of the file that replaces a ring file
// of mode old, and the permission bits for others that it drops. On Unix
// it keeps the owner's and group's bits and drops the others'. Windows
// reports only the read-only attribute (mode 0444 or 0666, whoever may
// read the file), so there the new file is ringFileMode and nothing is
// dropped, and a read-only file, which a rename cannot replace there, is
// refused with the fix.
func replacementMode(path string, old fs.FileMode, windows bool) (mode, dropped fs.FileMode, err error) {
	if !windows {
		return old.Perm() &^ 0o007, old.Perm() & 0o007, nil
	}
	if old.Perm()&0o200 == 0 {
		return 0, 0, fmt.Errorf(`%s is read-only (its read-only attribute is set), so it cannot be replaced: clear the attribute (attrib -r "%s") and run again`, path, path)
	}
	return ringFileMode, 0, nil
}

// renameOver renames from over to. On Windows a rename cannot replace a
// file that another program holds open (a server reading it, a virus
// scanner), so it is retried for up to lockWait while renameBusy says so.
func renameOver(from, to string) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := os.Rename(from, to)
		switch {
		case err == nil || !renameBusy(err):
			return err
		case time.Now().After(deadline):
			return fmt.Errorf("%w (for %v: another program, a server reading it or a virus scanner, may hold %s open; run again once it has closed it, or as a user who may replace the file)", err, lockWait, to)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// linkTarget returns the file that path names, following a symbolic link
// at path to its end even when that file does not exist yet (a link made
// before the ring was), so that writing the target keeps the link: the
// link replaced by a file would leave the ring it names, which a server
// may read by that name, without the write, and no error said so.
func linkTarget(path string) string {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		return resolved
	}
	for range 40 { // the kernel's limit on links followed
		dest, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return path
}

// refuseNotRegular refuses a path that names something other than a
// regular file (through any symbolic link): a device such as /dev/null, a
// named pipe (/dev/stdout, a shell's <(...)), a directory. The rename that
// writes a ring would replace it with a file, and for root even a device
// node goes without a word; a directory fails only at the rename, after
// a note that its mode was changed.
func refuseNotRegular(path string) error {
	info, err := os.Stat(path)
	if err != nil || info.Mode().IsRegular() {
		return nil // absent: written anew; other errors come at the write
	}
	kind := "not a regular file"
	switch t := info.Mode().Type(); {
	case t&fs.ModeDir != 0:
		kind = "a directory"
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case t&fs.ModeDevice != 0:
		kind = "a device"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%s is %s, not a regular file: a ring is written by renaming a new file over the old one, which would put a file in its place; name a ring file (keygen without -out prints the ring to stdout)", path, kind)
}

// createLock creates lock for path, waiting up to lockWait while another
// command holds it. An edit holds it for milliseconds, so a lock that
// stays the same file, unchanged, for the whole wait was left by a
// command killed while it held it (the lock's time is not compared with
// the clock: a clock set back since, or a file server's clock ahead, would
// make it look fresh for ever). The error then names the lock and says to
// remove it; a lock that changed meanwhile is other commands', one after
// another, and the error says to run again.
func createLock(path, lock string) (*os.File, error) {
	deadline := time.Now().Add(lockWait)
	var held fs.FileInfo // the lock as first found, if it could be read
	for {
		f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, ringFileMode)
		switch {
		case err == nil:
			return f, nil
		case !errors.Is(err, fs.ErrExist):
			if dirErr := noDirectory(path, lock, err); dirErr != nil {
				return nil, dirErr
			}
			return nil, fmt.Errorf("locking %s: %w%s", path, err, lockFix(err))
		}
		info, statErr := os.Stat(lock)
		if held == nil && statErr == nil {
			held = info
		}
		if time.Now().After(deadline) {
			if statErr == nil && os.SameFile(held, info) && info.ModTime().Equal(held.ModTime()) {
				return nil, fmt.Errorf("%s is being changed by another cookiesession command: its lock file %s has stayed as it is for over %v, while an edit takes milliseconds; if no command is running (one was killed), remove %s and run again",
					path, lock, lockWait, lock)
			}
			return nil, fmt.Errorf("%s is being changed by other cookiesession commands, one after another, for over %v; run again when they are done (if no command is running, remove %s)", path, lockWait, lock)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockFix returns the fix for a lock file that cannot be created, or "":
// the error names the lock file, which the operator did not ask for.
func lockFix(err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return ": change the ring where it comes from (a mounted Kubernetes Secret's source, the host's file behind a read-only bind mount) and let it reach this mount"
	case errors.Is(err, fs.ErrPermission):
		return ": a ring is rewritten by writing a new file beside it and renaming it over, so the command needs write permission on the ring's directory, not only on the file"
	}
	return writeFix(err)
}

// noDirectory returns the error for a file created beside path's ring, at
// created, that failed with err because the directory it goes in is
// missing or is a file, or nil. The system's "open ring.json.lock: no such
// file or directory" names a file the operator never asked for and reads
// as if the ring were missing; the directory is what is.
func noDirectory(path, created string, err error) error {
	if err == nil || !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	dir := filepath.Dir(created)
	where := ""
	if target := linkTarget(path); target != path {
		where = fmt.Sprintf(" (%s is a symbolic link to %s)", path, target)
	}
	info, statErr := os.Stat(dir)
	switch {
	case errors.Is(statErr, fs.ErrNotExist):
		return fmt.Errorf("%s: the directory %s does not exist%s: check the path (mkdir -p %s creates the directory for a new ring)", path, dir, where, dir)
	case statErr == nil && !info.IsDir():
		return fmt.Errorf("%s: %s is a file, not a directory%s: check the path", path, dir, where)
	case errors.Is(statErr, syscall.ENOTDIR):
		return fmt.Errorf("%s: a part of %s is a file, not a directory%s: check the path", path, dir, where)
	}
	return nil
}

// createFileExclusive writes data to a new file at path and fails if path
// exists: keygen must never clobber a ring that holds live keys.
// A symbolic link at path that names no file yet is followed, as
// replaceFile does.
func createFileExclusive(path string, data []byte) error {
	target := linkTarget(path)
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, ringFileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; pass -force to replace it", path)
	}
	if dirErr := noDirectory(path, target, err); dirErr != nil {
		return dirErr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w%s", path, err, createFix(err, filepath.Dir(target)))
	}
	if err := writeAndSync(f, data, ringFileMode); err != nil {
		os.Remove(target)
		return fmt.Errorf("writing %s: %w%s", path, err, writeFix(err))
	}
	return syncDir(path, filepath.Dir(target))
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

// syncDir makes the rename or create of path, in dir, durable: the file
// itself is already synced, but until its directory is, a crash can bring
// back the file as it was, or none. A directory that cannot be opened, or
// a platform or file system that cannot sync one (Windows, some network
// and FUSE file systems: EINVAL, or ENOTSUP and ENOSYS, which are
// errors.ErrUnsupported), is skipped. Any other failure (EIO from a
// failing disk) is an error that says the file holds the change: the
// command did its work, and run again would do it twice (add a second
// key).
func syncDir(path, dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	err = dirSync(d)
	if err == nil || runtime.GOOS == "windows" || errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return fmt.Errorf("%s was written and holds the change, but syncing its directory failed: %w; until the system writes the directory out, a crash may undo the change (the file as it was, or none); check the disk (an I/O error is a failing one) and run sync, then see the file as it stands with cookiesession list -ring %s before running the command again", path, err, path)
}

// dirSync syncs an open directory; tests make it fail.
var dirSync = (*os.File).Sync
