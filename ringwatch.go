package cookiesession

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Following the key ring's file while the server runs: WatchFile reloads
// the ring when the file's content changes, and reports what fails.

// WatchFile reloads the ring from path whenever the file's content differs
// from the content the ring was last loaded from (by LoadKeyRingFile,
// ReloadFile or WatchFile itself), checking every interval until ctx is
// done. The content is compared by digest, so every way of replacing a file
// counts: a rename, rm and a copy that keeps the times (cp -p), a swapped
// symbolic link such as Kubernetes' ..data. A change that lands before
// WatchFile starts is seen at the first tick.
//
// A failed read or parse keeps the current keys and is retried at every
// tick until it succeeds, so a file fixed in place (chmod, chown) is picked
// up. report is called with nil after each reload and when the file
// returns to the content in force after a failure, and with a failure when
// it first happens, when its error changes, and again every 10 minutes
// (by the ring's clock) for as long as it lasts. A nil report logs these
// through slog.Default instead, a failure at error level: a reload that
// fails leaves this instance on its old keys, so it is never silent. The
// failure is also in [Metrics.Reload] until the ring is its file's again.
// Write the file atomically (temp file + rename, as the CLI does). A
// file rewritten in place (cp, cat >) can be caught half-written: the
// JSON form refuses every prefix of a ring, and the file is taken only
// when two reads in a row agree, so a torn read is never taken; a tick
// that finds none reports the failure and a later one takes the whole
// ring. On Windows such a rename fails while any program holds the
// file open, WatchFile's reads included: retry it for a moment, as the
// CLI does.
//
// A reload that succeeds but signs users out (it removes the key that was
// sealing, say) is also logged at Warn through slog.Default, whatever
// report is: see ReloadFile. report still gets nil: the new keys are in
// force. A file that gives a key id the ring holds another secret is a
// failure, as ReloadFile says, and so is a file mounted alone whose
// source was replaced.
//
// WatchFile returns nil when ctx is done, after logging at Info (through
// slog.Default) that the file is no longer watched, with the context's
// cause, and keeping that in the ring's reload status: a context that ends
// before the server does leaves every later ring out of this instance. It
// returns an error at once if interval is under a millisecond (0, or a
// bare 10, which counts nanoseconds and would read the file in a busy
// loop), which it also reports (through report, or slog.Default) and
// keeps in the reload status, since a WatchFile started with go drops
// what it returns.
func (r *KeyRing) WatchFile(ctx context.Context, path string, interval time.Duration, report func(error)) error {
	if err := textForPath(path); err != nil {
		// Reported without the path, which every later line would show.
		r.noteReload(err, false)
		if report == nil {
			slog.Error("cookiesession: the key ring file is not watched", "error", err.Error())
		} else {
			report(err)
		}
		return err
	}
	if report == nil {
		report = defaultReport(r, path)
	}
	if interval < time.Millisecond {
		// Reported and shown in the metrics too: go ring.WatchFile(...)
		// drops the error, and the instance would never reload. Under a
		// millisecond is a unit mistake (a bare 10), which would read the
		// file in a busy loop.
		why := "is not positive"
		if interval > 0 {
			n := int64(interval)
			why = fmt.Sprintf("is under a millisecond: a time.Duration counts nanoseconds; for %d seconds write time.Duration(%d) * time.Second, for %d milliseconds time.Duration(%d) * time.Millisecond", n, n, n, n)
		}
		err := fmt.Errorf("cookiesession: WatchFile interval %v for %s %s: the file is not watched, and this instance keeps the keys it has whatever the file holds: pass an interval such as 10*time.Second", interval, path, why)
		r.noteReload(err, false)
		report(err)
		return err
	}
	w := &watcher{ring: r, path: path, report: report}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			r.watchStopped(path, context.Cause(ctx))
			return nil
		case <-ticker.C:
			w.check()
		}
	}
}

// watchStopped logs at Info that WatchFile of path stopped, its context
// ended with cause, and keeps it in the reload status (not as a failed
// reload, which it is not): a context that ends before the server does (a
// setup function's defer cancel()) leaves the file unwatched, and every
// ring shipped later out of this instance. Info, not Warn: every server
// that shuts down gracefully ends its watcher so, and a Warn at each
// deploy would teach operators to ignore the level; the status is what
// dashboards and alerts read.
func (r *KeyRing) watchStopped(path string, cause error) {
	const fix = "a reload needs ReloadFile or a restart; if the server still runs, pass WatchFile a context that lasts as long as the server"
	r.reloadMu.Lock()
	r.reload.Error = fmt.Sprintf("cookiesession: WatchFile of %s stopped: its context ended (%v), and the file is no longer watched: %s", path, cause, fix)
	r.reloadMu.Unlock()
	slog.Info("cookiesession: WatchFile of the key ring file stopped: its context ended, and the file is no longer watched", "file", path, "cause", cause.Error(), "fix", fix)
}

// watcher is WatchFile's state between ticks.
type watcher struct {
	ring    *KeyRing
	path    string
	report  func(error)
	failure string // the error last reported, "" when in step with the file
	// readOnce reads the file once (readRingOnce if nil); tests make it
	// return a text torn by a writer.
	readOnce func(string) ([]byte, error)
	reported time.Time // when failure was last reported
}

// failureReminder is how often a reload that keeps failing with the same
// error is reported again: the first report scrolls out of sight while
// the instance stays on its old keys.
const failureReminder = 10 * time.Minute

// check reloads the ring if the file's content is not the one in force.
func (w *watcher) check() {
	read := w.readOnce
	if read == nil {
		read = readRingOnce
	}
	data, err := readSettled(w.path, read)
	defer clear(data)
	if err == nil && sha256.Sum256(data) == w.ring.load().source {
		if err = sourceGone(w.path, os.Stat); err == nil {
			w.ring.noteReload(nil, false) // in step, whoever failed before
			if w.failure != "" {
				w.result(nil) // back to the content in force
			}
			return
		}
	}
	if err == nil {
		var st *ringState
		if st, err = parseRingText(data, w.path); err == nil {
			err = w.ring.swap(st, w.path)
		}
	}
	w.ring.noteReload(err, err == nil)
	w.result(err)
}

// defaultReport is WatchFile's report when the caller gives none.
func defaultReport(r *KeyRing, path string) func(error) {
	return func(err error) {
		if err != nil {
			slog.Error("cookiesession: key ring reload failed; keeping the old keys", "file", path, "error", err.Error())
			return
		}
		slog.Info("cookiesession: key ring reloaded", "file", path, "ring", r.String())
	}
}

func (w *watcher) result(err error) {
	now := w.ring.now()
	switch {
	case err == nil:
		w.failure = ""
	case err.Error() == w.failure && now.Sub(w.reported) < failureReminder:
		return // reported already
	default:
		w.failure, w.reported = err.Error(), now
	}
	if w.report != nil {
		w.report(err)
	}
}
