// Command cookiesession manages cookiesession key-ring files and inspects
// session cookies.
//
// Usage:
//
//	cookiesession keygen  [-out FILE [-force]] [-json]
//	cookiesession add     -ring FILE [-promote-at RFC3339 | -promote-in DURATION] [-json]
//	cookiesession promote -ring FILE -id ID
//	cookiesession remove  -ring FILE -id ID [-max-lifetime DUR]
//	cookiesession list    [-ring FILE|-] [-json]
//	cookiesession inspect [-ring FILE|-] [-name NAME] [-max-age DUR] [-max-lifetime DUR] [-max-chunks N] [-json] [TOKEN|-]
//
// list and inspect read the ring from FILE, from stdin for "-", or from the
// COOKIESESSION_KEYS environment variable when -ring is not given, as a
// serverless service does. Every command that prints takes -json.
//
// A key rotation with the tool follows the package's three stages: add the
// new key everywhere, promote it (or schedule that with -promote-at), and
// remove the old key once MaxAge (MaxLifetime, for sessions with a
// Lifetime of their own) has passed.
//
// Ring files hold secrets. A new file gets mode 0600; a file is replaced
// atomically, so a server watching it never reads half a file, and keeps
// its owner, group and their permissions, with none for others. Mount the
// ring's directory into a container, not the file alone: the replacement
// is a new file. It is written as FILE.lock, created only if absent, and
// an edit reads the ring while holding that lock, so concurrent edits
// take turns instead of one dropping the other's change. A lock left by a
// command killed while it held it stops the next edit within 2 s, with an
// error that names it: remove it and run again.
//
// Exit status: 0 on success, 1 when the operation failed (a bad ring file,
// a refused token), 2 for a usage error. A flag given two different
// values, a flag after an argument (which Go's flag package reads as an
// argument), a duration without its unit, a word after "help COMMAND"
// other than -h, a flag before the command, an add's promotion less
// than a minute away and an argument that holds a key ring's text (never
// shown: it holds secrets) are usage errors. -h, -help and --help print usage on
// stdout and exit 0, before a command, after one, or beside help.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession/internal/secrettext"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what a subcommand may touch, so that tests run it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand. Each run function builds its own FlagSet, so
// "help NAME" is simply the command run with -h.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"keygen", "print or write a new key ring with one key", cmdKeygen},
		{"add", "add a new open-only key to a ring file", cmdAdd},
		{"promote", "make a key the primary", cmdPromote},
		{"remove", "remove a key that is not the primary", cmdRemove},
		{"list", "list the keys of a ring and their states, never secrets", cmdList},
		{"inspect", "open a token or Cookie header and print the session", cmdInspect},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// errHelp means usage was printed on request: exit 0.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line: exit 2.
type usageError struct {
	cmd string
	msg string
}

func (u *usageError) Error() string { return u.msg }

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	return e.exit(dispatch(e, args))
}

func dispatch(e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("", "no command given")
	}
	if err := refuseRingText(args); err != nil {
		return err
	}
	switch name := args[0]; {
	case isHelpFlag(name):
		printToolUsage(e.stdout)
		return errHelp
	case name == "help":
		return help(e, args[1:])
	case strings.HasPrefix(name, "-") && len(name) > 1:
		// "cookiesession -ring r.json list": the flags are each command's.
		return usageErrorf("", "%q is a flag, not a command: flags follow the command's name (cookiesession COMMAND [flags]; commands: %s)", name, commandNames())
	default:
		c, ok := findCommand(name)
		if !ok {
			return usageErrorf("", "unknown command %q (commands: %s)", name, commandNames())
		}
		return c.run(e, args[1:])
	}
}

// refuseRingText refuses an argument that holds a key ring's text, which
// no command takes as a word: -ring "$COOKIESESSION_KEYS" or list "$(cat
// ring.json)". Every other error would quote the word whole, secrets and
// all, onto stderr and into a CI log ("open {...}: no such file").
//
// So is a key's secret, but in inspect's arguments, whose own refusal
// hides it: as a ring holds it (32 bytes in padded base64) anywhere else,
// and, as a command or an argument, one that may be any key's secret (see
// secrettext.Maybe): cookiesession list "$SESSION_SECRET" quoted it
// as an unexpected argument. A flag's value is checked only for the
// first, since a Path or a cookie's name may well be long and of both
// cases.
func refuseRingText(args []string) error {
	for i, arg := range args {
		where := fmt.Sprintf("argument %d", i+1)
		name, value, isFlag := strings.Cut(arg, "=")
		flagValue := true
		switch {
		case isFlag && strings.HasPrefix(name, "-") && !strings.ContainsAny(name, "{\"\n"):
			where = "the value of " + name // -ring={...}
		case i > 0 && strings.HasPrefix(args[i-1], "-") && !strings.Contains(args[i-1], "="):
			where, value = "the value of "+args[i-1], arg
		default:
			value, flagValue = arg, false
		}
		what := "a key ring's text"
		if !secrettext.Ring(value) {
			what = "a key's secret"
			if !flagValue && i > 0 && args[0] == "inspect" || !secrettext.Secret(value) && (flagValue || !secrettext.Maybe(value)) {
				continue
			}
		}
		if _, err := os.Lstat(value); err == nil {
			continue // a file of that name, however odd: it is a path
		}
		cmd := ""
		if _, ok := findCommand(args[0]); ok && i > 0 {
			cmd = args[0]
		}
		return usageErrorf(cmd, "%s is %s (%d bytes, not shown: it holds secrets), where a file's path or a word belongs: -ring takes the ring's file; -ring - reads it from stdin, and list and inspect without -ring read $%s", where, what, len(value), envKeys)
	}
	return nil
}

// isHelpFlag reports whether arg asks for help as the flag package
// reads it: -h or -help, with one dash or two.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// help prints the tool's usage, or one command's. A help flag anywhere
// asks for what help prints anyway ("help -h", "help add -h"), and "help
// help" is the tool's usage, as "help" alone.
func help(e *env, args []string) error {
	args = slices.DeleteFunc(slices.Clone(args), isHelpFlag)
	if len(args) == 0 {
		printToolUsage(e.stdout)
		return errHelp
	}
	c, ok := findCommand(args[0])
	if !ok && args[0] != "help" {
		return usageErrorf("", "unknown command %q (commands: %s)", args[0], commandNames())
	}
	if len(args) > 1 {
		// "help add -promote-in" would print add's help and drop the word
		// with nothing said.
		return usageErrorf("", "help takes one command's name: unexpected argument %q after %q; for its flags, run 'cookiesession help %s'", args[1], args[0], args[0])
	}
	if !ok { // help help
		printToolUsage(e.stdout)
		return errHelp
	}
	return c.run(e, []string{"-h"})
}

// exit reports err on stderr and maps it to the exit status.
func (e *env) exit(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		e.usageHint(ue)
		return 2
	default:
		fmt.Fprintln(e.stderr, prefixed(err.Error()))
		return 1
	}
}

func (e *env) usageHint(ue *usageError) {
	full := "cookiesession"
	if ue.cmd != "" {
		full += " " + ue.cmd
	}
	// The library's messages carry their own prefix; one is enough.
	fmt.Fprintf(e.stderr, "%s: %s\n", full, strings.TrimPrefix(ue.msg, "cookiesession: "))
	fmt.Fprintf(e.stderr, "run '%s -h' for usage\n", full)
}

// prefixed gives every message the "cookiesession: " prefix once: the
// library's errors already carry it and are printed verbatim, so an
// operator sees exactly the reason a server would log.
func prefixed(msg string) string {
	if strings.HasPrefix(msg, "cookiesession: ") {
		return msg
	}
	return "cookiesession: " + msg
}

func printToolUsage(w io.Writer) {
	fmt.Fprint(w, `usage: cookiesession COMMAND [flags] [args]

Manage cookiesession key-ring files and inspect session cookies.

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'cookiesession COMMAND -h' or 'cookiesession help COMMAND' for details.
Exit status: 0 success, 1 operation failed, 2 usage error.
`)
}

// newFlagSet returns a FlagSet that prints nothing itself: parse decides
// where usage goes, stdout for -h and stderr for mistakes.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs. synopsis is the command's usage text without
// the flag list, which is generated from fs. A flag given two different
// values is refused: the flag package keeps the last without a word, so
// "keygen -out a.json -out b.json" wrote b.json alone, and "promote -id
// OLD -id NEW" promoted whichever came last.
func (e *env) parse(fs *flag.FlagSet, synopsis string, args []string) error {
	given := recordFlags(fs)
	err := fs.Parse(args)
	given.restore()
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(e.stdout, fs, synopsis)
		return errHelp
	case err != nil:
		return &usageError{cmd: fs.Name(), msg: err.Error()}
	}
	return given.refuseRepeated(fs)
}

// flagRecord holds the values each flag of a FlagSet was given, in order.
type flagRecord struct {
	values   map[string][]string
	original map[*flag.Flag]flag.Value
}

// recordFlags wraps every flag of fs so that its values are recorded, until
// restore puts the flag's own Value back: PrintDefaults, which reads a
// Value's type to find its zero value, then sees the flag's own.
func recordFlags(fs *flag.FlagSet) *flagRecord {
	rec := &flagRecord{values: map[string][]string{}, original: map[*flag.Flag]flag.Value{}}
	fs.VisitAll(func(f *flag.Flag) {
		rec.original[f] = f.Value
		v := &recordedValue{Value: f.Value, name: f.Name, rec: rec}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = recordedBool{v} // so that -json takes no value
		} else {
			f.Value = v
		}
	})
	return rec
}

func (rec *flagRecord) restore() {
	for f, v := range rec.original {
		f.Value = v
	}
}

// refuseRepeated reports the first flag, in fs's order, given two values
// that differ. The same value twice ("-json -json") is taken: there is no
// doubt which one was meant.
func (rec *flagRecord) refuseRepeated(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		values := rec.values[f.Name]
		if err != nil || len(slices.Compact(slices.Clone(values))) < 2 {
			return
		}
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = strconv.Quote(v)
		}
		err = usageErrorf(fs.Name(), "-%s is given %d times, as %s, and only one can count: give it once",
			f.Name, len(values), strings.Join(quoted, " and "))
	})
	return err
}

// recordedValue is a flag's Value that records each value it is set to.
type recordedValue struct {
	flag.Value
	name string
	rec  *flagRecord
}

func (v *recordedValue) Set(s string) error {
	v.rec.values[v.name] = append(v.rec.values[v.name], s)
	return v.Value.Set(s)
}

// recordedBool is a recordedValue for a boolean flag, which the flag
// package recognizes by this method.
type recordedBool struct{ *recordedValue }

func (recordedBool) IsBoolFlag() bool { return true }

// durationFlag is a time.Duration flag whose error says what a duration
// is: the flag package's own says only "parse error", and "-promote-in 5"
// (minutes? hours?) is the mistake to expect.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: give a number and its unit, such as 90m, 1h or 36h (units: ns, us, ms, s, m, h)", s)
	}
	*d = durationFlag(v)
	return nil
}

// durationVar defines a durationFlag; usage names its argument in
// backquotes, as for the flag package's own.
func durationVar(fs *flag.FlagSet, name, usage string) *time.Duration {
	d := new(durationFlag)
	fs.Var(d, name, usage)
	return (*time.Duration)(d)
}

func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprint(w, synopsis)
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// checkArgs reports the first of the required flags left at its empty
// default, then any positional argument; a flag written after an argument
// first, since the flag it names then reads as missing.
func checkArgs(fs *flag.FlagSet, required ...string) error {
	if flagAfter(fs, 1) != "" {
		return noArgs(fs)
	}
	if err := requireFlags(fs, required...); err != nil {
		return err
	}
	return noArgs(fs)
}

// requireFlags reports the first of names left at its empty default, and
// a required -ring of "-": the commands that require -ring rewrite its
// file, where list and inspect, which only read it, take stdin.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	for _, name := range names {
		switch value := fs.Lookup(name).Value.String(); {
		case value == "":
			return usageErrorf(fs.Name(), "-%s is required", name)
		case name == "ring" && value == "-":
			return usageErrorf(fs.Name(), "-ring - (stdin) is for list and inspect, which only read a ring; %s rewrites the ring's file: name the file", fs.Name())
		}
	}
	return nil
}

// noArgs refuses positional arguments, which are most likely a flag
// written after a stray word and would otherwise be ignored silently.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	if flag := flagAfter(fs, 1); flag != "" {
		msg += fmt.Sprintf(", and %s after it is not read as a flag: remove the argument", flag)
	}
	return usageErrorf(fs.Name(), "%s", msg)
}

// flagAfter returns the first of fs's arguments from index from on that
// names one of fs's flags, or "". The flag package stops at the first
// argument that is not a flag, so a flag written after it is taken as
// one more argument, not as the flag.
func flagAfter(fs *flag.FlagSet, from int) string {
	for _, arg := range fs.Args()[min(from, fs.NArg()):] {
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		if strings.HasPrefix(arg, "-") && name != "" && fs.Lookup(name) != nil {
			return arg
		}
	}
	return ""
}
