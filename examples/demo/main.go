// Command demo is a small web app that shows what cookiesession does: a
// login that renews the session (with "remember me"), a flash message, a
// visit counter, a note of any size (to meet the size limit and chunking),
// and a JSON API over the session. Beside them the page shows the cookie
// as the browser sent it, what the server decrypted from it, and how many
// tokens each key of the ring opened; the counters are also served at
// /debug/vars. There is no server store.
//
//	go run ./examples/demo                 # http://127.0.0.1:8080
//	go run ./examples/demo -keys ring.json -max-chunks 4 -debug
//
// Keys come from -keys FILE (reloaded when it changes and on SIGHUP), else
// from COOKIESESSION_KEYS, else from a fresh ring that dies with the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line; the flag package has already said why.
type usageError struct{ error }

// flags is the parsed command line.
type flags struct {
	addr  string
	keys  string
	debug bool
	cfg   config
}

const insecureHelp = `omit the Secure cookie attribute. The demo serves plain HTTP but by
default still sends Secure cookies, as production should: Chrome/Chromium (89+)
and Firefox (75+) keep them from http://localhost and http://127.0.0.1, which
they treat as secure contexts, so the printed URL works as is. Use -insecure
if your browser drops them (Safari may) or to reach the demo from another
host over plain HTTP`

func parseFlags(args []string, out io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address; port 0 picks a free port")
	fs.StringVar(&f.keys, "keys", "", "key-ring JSON `file`, reloaded when it changes and on SIGHUP (default: $"+cookiesession.EnvKeys+", else an ephemeral ring)")
	fs.BoolVar(&f.debug, "debug", false, "log at debug level, including why a cookie was refused")
	fs.StringVar(&f.cfg.Name, "name", "session", "cookie name (chunks are NAME, NAME.1, NAME.2, ...)")
	fs.DurationVar(&f.cfg.MaxAge, "max-age", 24*time.Hour, "absolute session lifetime")
	fs.DurationVar(&f.cfg.IdleTimeout, "idle-timeout", 0, "end a session idle this long; 0 is off")
	fs.DurationVar(&f.cfg.RememberFor, "remember", defaultRemember, "lifetime of a \"remember me\" login, and the ceiling (MaxLifetime) of every session")
	fs.IntVar(&f.cfg.MaxChunks, "max-chunks", 1, "cookies of 4096 bytes a session may span, 1 to 62 (more would pass the 256 KiB of response header Chromium reads)")
	fs.BoolVar(&f.cfg.Insecure, "insecure", false, insecureHelp)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(out, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return f, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := checkFlags(f.cfg); err != nil {
		fmt.Fprintf(out, "%v (see -h)\n", err)
		return f, usageError{err}
	}
	return f, nil
}

// checkFlags refuses values that the library would otherwise take for its
// default (a zero -max-age is 24h, a zero -max-chunks is 1, a zero
// -remember is 30 days), so that no flag is silently ignored, and a
// -remember that SetLifetime would refuse at every "remember me" login. An
// -idle-timeout longer than -max-age is allowed, as by the library: it
// applies to remembered sessions, which last -remember.
func checkFlags(c config) error {
	switch {
	case c.MaxAge <= 0:
		return fmt.Errorf("-max-age %v: a session's lifetime must be positive", c.MaxAge)
	case c.MaxChunks < 1 || c.MaxChunks > 62:
		// New refuses more: their lines would pass the 256 KiB of
		// response header Chromium reads.
		return fmt.Errorf("-max-chunks %d: a session spans 1 to 62 cookies", c.MaxChunks)
	case c.RememberFor < time.Second:
		return fmt.Errorf("-remember %v: a remembered login must last at least 1s", c.RememberFor)
	case c.RememberFor%time.Second != 0:
		// SetLifetime would refuse it at every "remember me" login.
		return fmt.Errorf("-remember %v: sessions last whole seconds", c.RememberFor)
	case c.RememberFor > 400*24*time.Hour:
		// A remembered login's cookie lasts RememberFor (its idle window
		// too), which browsers cut to 400 days: SetLifetime refuses it.
		return fmt.Errorf("-remember %v: browsers keep a cookie at most 400 days (9600h)", c.RememberFor)
	case c.IdleTimeout < 0:
		return fmt.Errorf("-idle-timeout %v: must be positive, or 0 for off", c.IdleTimeout)
	}
	return nil
}

// run is the whole program; main adds only the process signals. It returns
// after ctx is done and in-flight requests have finished.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if f.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ring, err := loadRing(f.keys, logger)
	if err != nil {
		return err
	}
	f.cfg.Logger = logger
	f.cfg.EphemeralRing = f.keys == "" && os.Getenv(cookiesession.EnvKeys) == ""
	handler, err := newApp(ring, f.cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		// 8080 is often taken (another server, a demo still running);
		// a port below 1024, or an address this host lacks, is not.
		held := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			held = "stop what holds it, or "
		}
		return fmt.Errorf("-addr %s: %w: %spick another address, such as -addr 127.0.0.1:0 for a free port (the log prints the URL)", f.addr, err, held)
	}
	if f.keys != "" {
		go ring.WatchFile(ctx, f.keys, time.Second, reloadReporter(logger, ring, f.keys, "file changed"))
	}
	go reloadOnHangup(ctx, ring, f.keys, logger)
	warnIfSecureUnusable(logger, ln.Addr(), f.cfg.Insecure)
	logger.Info("demo listening on " + listenURL(ln.Addr()))
	return serve(ctx, ln, handler, logger)
}

// loadRing picks the key source: the file, else the env var, else a new
// ring that lives as long as the process.
func loadRing(path string, logger *slog.Logger) (*cookiesession.KeyRing, error) {
	switch {
	case path != "":
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			return nil, fmt.Errorf("-keys: %w", err)
		}
		logger.Info("keys loaded", "file", path, "ring", ring.String())
		return ring, nil
	case os.Getenv(cookiesession.EnvKeys) != "":
		ring, err := cookiesession.LoadKeyRingEnv()
		if err != nil {
			return nil, err
		}
		logger.Info("keys loaded", "env", cookiesession.EnvKeys, "ring", ring.String())
		return ring, nil
	}
	return ephemeralRing(logger)
}

func ephemeralRing(logger *slog.Logger) (*cookiesession.KeyRing, error) {
	key, err := cookiesession.GenerateKey()
	if err != nil {
		return nil, err
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		return nil, err
	}
	logger.Warn("WARNING: no -keys file and no "+cookiesession.EnvKeys+": using an ephemeral key ring, "+
		"so sessions will not survive a restart, and no other instance can open them",
		"ring", ring.String(), "fix", "go run ./cmd/cookiesession keygen -out ring.json, then -keys ring.json on every instance")
	return ring, nil
}

// reloadReporter logs the outcome of a reload. A failed reload keeps the
// old keys, and the log says so and why.
func reloadReporter(logger *slog.Logger, ring *cookiesession.KeyRing, path, cause string) func(error) {
	return func(err error) {
		if err != nil {
			logger.Error("key ring reload failed; keeping the old keys", "file", path, "cause", cause, "err", err)
			return
		}
		logger.Info("key ring reloaded", "file", path, "cause", cause, "ring", ring.String())
	}
}

// reloadKeys re-reads the key file now, as SIGHUP asks.
func reloadKeys(ring *cookiesession.KeyRing, path string, logger *slog.Logger) error {
	if path == "" {
		logger.Warn("SIGHUP: no -keys file to reload")
		return nil
	}
	err := ring.ReloadFile(path)
	reloadReporter(logger, ring, path, "SIGHUP")(err)
	return err
}

func reloadOnHangup(ctx context.Context, ring *cookiesession.KeyRing, path string, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reloadKeys(ring, path, logger)
		}
	}
}

// listenURL is the URL to print. An unspecified address (":8080") is shown
// as localhost, which every browser can open.
func listenURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// warnIfSecureUnusable says when the default will not work: browsers keep
// Secure cookies over plain HTTP only from loopback.
func warnIfSecureUnusable(logger *slog.Logger, addr net.Addr, insecure bool) {
	tcp, ok := addr.(*net.TCPAddr)
	if insecure || !ok || tcp.IP.IsLoopback() {
		return
	}
	logger.Warn("cookies are Secure but the demo serves plain HTTP: browsers on other hosts will drop them; use -insecure or put TLS in front",
		"addr", addr.String())
}

// serve runs the server until ctx is done, then lets in-flight requests
// finish for up to 10 seconds.
func serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	<-served
	return nil
}
