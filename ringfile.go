package cookiesession

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// Loading the key ring from the environment or a file, and following the
// file while the server runs.

// LoadKeyRingEnv parses the ring from the COOKIESESSION_KEYS environment
// variable.
func LoadKeyRingEnv() (*KeyRing, error) {
	data, ok := os.LookupEnv(EnvKeys)
	if !ok || data == "" {
		return nil, fmt.Errorf("cookiesession: %s is not set", EnvKeys)
	}
	r, err := ParseKeyRing([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, EnvKeys)
	}
	return r, nil
}

// maxRingFile bounds a key-ring file read.
const maxRingFile = 1 << 20

// LoadKeyRingFile parses the ring from a file. The ring remembers a digest
// of the text it parsed: WatchFile reloads when the file differs from it.
func LoadKeyRingFile(path string) (*KeyRing, error) {
	st, err := loadRingState(path)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func loadRingState(path string) (*ringState, error) {
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
		return nil, fmt.Errorf("%w (from %s)", err, path)
	}
	st.source = sha256.Sum256(data)
	return st, nil
}

func readRingFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxRingFile+1)); err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w", err)
	}
	if b.Len() > maxRingFile {
		return nil, fmt.Errorf("cookiesession: key ring file %s is larger than %d bytes", path, maxRingFile)
	}
	return b.Bytes(), nil
}

// ReloadFile re-reads path and swaps in its keys. If the file cannot be
// read or parsed the ring keeps its current keys and the error is returned.
func (r *KeyRing) ReloadFile(path string) error {
	st, err := loadRingState(path)
	if err != nil {
		return err
	}
	r.swap(st)
	return nil
}

func (r *KeyRing) swap(st *ringState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Store(st)
}

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
// returns to the content in force after a failure, and with each failure
// once, again only when the error changes. A nil report logs these through
// slog.Default instead, a failure at error level: a reload that fails
// leaves the fleet on its old keys, so it is never silent. Write the file
// atomically (temp file + rename, as the CLI does): a reader that catches a
// half-written file reports a parse error and retries.
//
// WatchFile returns nil when ctx is done, and an error at once if interval
// is not positive.
func (r *KeyRing) WatchFile(ctx context.Context, path string, interval time.Duration, report func(error)) error {
	if interval <= 0 {
		return fmt.Errorf("cookiesession: WatchFile interval %v is not positive", interval)
	}
	if report == nil {
		report = defaultReport(r, path)
	}
	w := &watcher{ring: r, path: path, report: report}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			w.check()
		}
	}
}

// watcher is WatchFile's state between ticks.
type watcher struct {
	ring    *KeyRing
	path    string
	report  func(error)
	failure string // the error last reported, "" when in step with the file
}

// check reloads the ring if the file's content is not the one in force.
func (w *watcher) check() {
	data, err := readRingFile(w.path)
	defer clear(data)
	if err == nil && sha256.Sum256(data) == w.ring.load().source {
		if w.failure != "" {
			w.result(nil) // back to the content in force
		}
		return
	}
	if err == nil {
		var st *ringState
		if st, err = parseRingText(data, w.path); err == nil {
			w.ring.swap(st)
		}
	}
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
	switch {
	case err == nil:
		w.failure = ""
	case err.Error() == w.failure:
		return // reported already
	default:
		w.failure = err.Error()
	}
	if w.report != nil {
		w.report(err)
	}
}
