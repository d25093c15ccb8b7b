package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-ff2808ae/cookiesession"

	"github.com/seed-ff2808ae/cookiesession/internal/secrettext"
)

const inspectUsage = `usage: cookiesession inspect [-ring FILE|-] [-name NAME] [-max-age DUR] [-max-lifetime DUR] [-max-chunks N] [-json] [TOKEN|-]

Open a session token with the ring in FILE (stdin for -, $COOKIESESSION_KEYS
when -ring is not given), exactly as a server configured with the same
options would, and print the session: its id, times, the key that sealed
it, its own Lifetime ("remember me") if it has one, and every value with
its Go type (as JSON with -json).

The input is the argument, or stdin when it is "-" or absent (then the ring
cannot come from stdin too). It is either a bare token or a whole Cookie
header value ("a=b; NAME=...; NAME.1=..."), from which the chunks of NAME
are reassembled. A leading "Cookie:" is ignored. The response's
Set-Cookie lines (one a line, as a browser's network panel or curl -D
shows them, alone or with the response's other header lines:
curl -s -D - -o /dev/null URL), curl's cookie jar (curl -c FILE) and
curl -v's trace (curl -sv URL 2>&1) are read too: from a trace, the
request's Cookie line or the response's Set-Cookie lines, whichever holds
NAME (both: an error asks which). Space, tab, CR and LF
around the input are trimmed, as a server trims them around a cookie;
nothing else is (a vertical tab, a no-break space): a token with one
fails as it would at a server, with a note naming the character.

Pass the service's MaxAge, MaxLifetime and MaxChunks: a session older than
-max-age is reported expired, a session with a Lifetime of its own ("remember
me") is bounded by -max-lifetime instead, and chunks beyond -max-chunks are
not read. A token whose own deadline is later than -max-age allows (sealed
under a longer MaxAge) gets a note that gives its deadline.

When the token is refused, the reason a server would log is printed on
stderr (for example "cookiesession: unknown key id 1a2b3c4d") and the exit
status is 1.
`

// maxInspectInput bounds what is read from stdin; a real Cookie header is a
// few kilobytes.
const maxInspectInput = 1 << 20

func cmdInspect(e *env, args []string) error {
	fs := newFlagSet("inspect")
	ringPath := fs.String("ring", "", ringFlagHelp)
	name := fs.String("name", "session", "the cookie `NAME` the token is bound to (the service's Options.Name)")
	maxAge := durationVar(fs, "max-age", "the service's Options.MaxAge, a `DUR` such as 24h (default 24h)")
	maxLifetime := durationVar(fs, "max-lifetime", "the service's Options.MaxLifetime, the bound on a session's own Lifetime, a `DUR` (default: -max-age)")
	maxChunks := fs.Int("max-chunks", 0, "the service's Options.MaxChunks: a session spans `N` cookies at most (default 1)")
	asJSON := fs.Bool("json", false, "print the session as JSON")
	if err := e.parse(fs, inspectUsage, args); err != nil {
		return err
	}
	if err := checkInspectArgs(fs, *ringPath); err != nil {
		return err
	}
	ring, err := e.readRing("inspect", *ringPath)
	if err != nil {
		return err
	}
	opts := cookiesession.Options{
		Name: *name, MaxAge: *maxAge, MaxLifetime: *maxLifetime, MaxChunks: *maxChunks,
		Logger: slog.New(slog.DiscardHandler), // the reason goes to stderr instead
		// inspect writes no cookie: without this, New would refuse a MaxAge
		// over the 400 days browsers keep one, which a service may set
		// beside an IdleTimeout, a flag inspect has no use for.
		BrowserSession: true,
	}
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		// The message names Options fields, which the operator set by flags.
		return &usageError{cmd: "inspect", msg: err.Error() + " (flags: -name gives Name; -max-age gives MaxAge, default 24h; -max-lifetime gives MaxLifetime; -max-chunks gives MaxChunks)"}
	}
	input, err := readInput(e, fs.Arg(0), *name)
	if err != nil {
		return err
	}
	r, err := cookieRequest(*name, input)
	if err != nil {
		e.noteUntrimmed(input)
		e.noteEscaped(input)
		return err
	}
	e.noteChunksBeyond(r, *name, max(*maxChunks, 1))
	s, err := m.Load(r)
	if err != nil {
		e.noteUntrimmed(input)
		e.noteEscaped(input)
		e.noteRefusal(ring, opts, r, err)
		return err
	}
	e.noteLongerLifetime(ring, opts, r, s.ExpiresAt())
	e.noteLongerMaxAge(ring, opts, r, s.ExpiresAt())
	if s.IsNew() {
		// Load refuses an empty cookie itself; this guards against printing
		// a fresh session as if the input held it.
		return fmt.Errorf("cookie %q is empty: there is no session to inspect", *name)
	}
	if *asJSON {
		return writeJSON(e, describeSession(s, ring))
	}
	return writeSession(e, describeSession(s, ring))
}

func checkInspectArgs(fs *flag.FlagSet, ringPath string) error {
	if err := requireFlags(fs, "name"); err != nil {
		return err
	}
	if err := refuseEmptyRing(fs); err != nil {
		return err
	}
	if flag := flagAfter(fs, 1); flag != "" {
		// "inspect TOKEN -json": the flag package reads -json as a second
		// token, and "give one token" would not say why.
		return usageErrorf("inspect", "%s after the token %q is not read as a flag: put every flag before the token", flag, fs.Arg(0))
	}
	if fs.NArg() > 1 {
		return usageErrorf("inspect", "unexpected argument %q: give one token or Cookie header", fs.Arg(1))
	}
	if ringPath == "-" && (fs.Arg(0) == "" || fs.Arg(0) == "-") {
		return usageErrorf("inspect", "-ring - reads the ring from stdin: give the token as an argument")
	}
	return nil
}

// writeSession prints the inspection for people: the metadata, then one
// value per line with its Go type, the value as -json would show it.
func writeSession(e *env, in inspection) error {
	state := "primary"
	switch {
	case in.keyIncoming:
		state = "scheduled to seal within 60 s: a server keeps the token under it"
	case !in.KeyPrimary:
		state = "open-only: a server re-seals it under the primary"
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\ncreated\t%s\nexpires\t%s\nkey\t%s (%s)\n",
		in.ID, in.Created.Format(time.RFC3339), in.Expires.Format(time.RFC3339), in.KeyID, state)
	if in.Lifetime != nil {
		fmt.Fprintf(tw, "lifetime\t%s\n", in.Lifetime)
	}
	for _, k := range slices.Sorted(maps.Keys(in.Values)) {
		v := in.Values[k]
		text, err := json.Marshal(v.Value)
		if err != nil {
			return err
		}
		if v.Go != "" {
			text = []byte(v.Go)
		}
		name := strconv.Quote(k)
		if v.GoKey {
			name = k
		}
		fmt.Fprintf(tw, "value %s\t%s\t%s\n", name, v.Type, text)
	}
	return tw.Flush()
}

// readInput returns the argument, or stdin for "-" or no argument, without
// the space, tab, CR and LF around it and without a pasted "Cookie:"
// header name. It trims what a server trims around a cookie (FORMAT.md
// section 5, step 1) and nothing else: a token with a vertical tab or a
// no-break space around it fails here as it fails there (noteUntrimmed
// names the character). A line break inside is refused. Set-Cookie
// lines that clear the cookie name (a logout's response) are refused as
// such: the refusal would otherwise be of an empty token, or of no such
// cookie.
func readInput(e *env, arg, name string) (string, error) {
	if arg == "" || arg == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, maxInspectInput+1))
		if err != nil {
			return "", fmt.Errorf("reading stdin: %w", err)
		}
		if len(data) > maxInspectInput {
			return "", fmt.Errorf("stdin holds more than %d bytes: not a token", maxInspectInput)
		}
		arg = string(data)
		if secrettext.Ring(arg) {
			return "", errors.New("stdin holds a key ring's text, not a cookie: give the ring with -ring FILE or -ring -, and the token as an argument")
		}
	}
	input := textproto.TrimString(arg)
	if header, cleared, request, ok := copiedCookies(input); ok {
		names := cookieNames(header)
		if slices.Contains(cookieNames(request), name) {
			if slices.Contains(names, name) {
				return "", fmt.Errorf("the trace holds cookie %q in the request's Cookie line (what the server was sent) and in the response's Set-Cookie lines (what it set): pass one of them (grep '^> Cookie:' or grep -i '^< Set-Cookie:')", name)
			}
			return request, nil // refused or cleared by the response, or left as it was
		}
		switch {
		case slices.Contains(cleared, name) && !slices.Contains(names, name), len(names) == 0 && len(cleared) > 0:
			return "", fmt.Errorf("the Set-Cookie lines clear cookies (%s, each with an empty value, as a logout's response does) and set no cookie named %q: there is no session in them to inspect; copy the Set-Cookie lines of a response that sets it, or a request's Cookie header", shownNames(cleared), name)
		case len(names) == 0 && request != "":
			return "", fmt.Errorf("the trace's request sends no cookie named %q (found: %s), and its response sets none: there is no session in it to inspect", name, shownNames(cookieNames(request)))
		case len(names) == 0:
			return "", errors.New("the Set-Cookie lines set no cookie (nothing after Set-Cookie:): copy them whole, or a request's Cookie header")
		}
		return header, nil
	}
	if value, ok := cutHeader(input, "Cookie:"); ok {
		input = value
	}
	if input == "" {
		return "", errors.New("no token given: pass it as an argument or on stdin")
	}
	if strings.ContainsAny(input, "\r\n") && (input[0] == '{' || input[0] == '[') {
		return "", errors.New(`the input is a JSON document, not a cookie (a HAR file saved from a browser's network panel?): give the Cookie header's value, such as jq -r '.log.entries[].request.headers[] | select(.name | ascii_downcase == "cookie") | .value' FILE.har, or a response's Set-Cookie lines`)
	}
	if strings.ContainsAny(input, "\r\n") {
		// net/http would drop the cookie, and the refusal would say the
		// input holds none.
		return "", errors.New("the input holds a line break, which no token or Cookie header does (a terminal that wrapped it when it was copied?): join it into one line")
	}
	return input, nil
}

// copiedCookies returns as a Cookie header the cookies of input copied as
// a response's Set-Cookie lines (a browser's network panel, curl -D), the
// name=value before each line's attributes, with the response's other
// header lines, status lines and blank lines around them if any (curl -s
// -D - -o /dev/null URL), or as curl's cookie jar (curl -c, Netscape's
// format: seven tab-separated fields a line, an HttpOnly cookie's line
// marked #HttpOnly_), or as curl -v's trace (see curlTrace), and whether it
// was any. A Set-Cookie line that expires a cookie (an empty value) is
// left out, its name returned in cleared. request is the trace's request
// Cookie header, if any.
func copiedCookies(input string) (header string, cleared []string, request string, ok bool) {
	const setCookie, httpOnly = "set-cookie:", "#HttpOnly_"
	var pairs []string
	setCookies, jarLines, others, traceLines := 0, 0, 0, 0
	for line := range strings.Lines(input) {
		line = textproto.TrimString(line)
		mark, rest := curlTrace(line)
		switch mark {
		case '>':
			if value, ok := cutHeader(rest, "Cookie:"); ok {
				request = value
			}
			traceLines++
			continue
		case '*', '{', '}':
			traceLines++
			continue
		case '<':
			traceLines++
			line = rest
		}
		if len(line) >= len(setCookie) && strings.EqualFold(line[:len(setCookie)], setCookie) {
			pair, _, _ := strings.Cut(line[len(setCookie):], ";")
			if pair = textproto.TrimString(pair); !strings.HasSuffix(pair, "=") {
				pairs = append(pairs, pair) // not a line that expires a cookie
			} else {
				cleared = append(cleared, textproto.TrimString(strings.TrimSuffix(pair, "=")))
			}
			setCookies++
			continue
		}
		fields := strings.Split(strings.TrimPrefix(line, httpOnly), "\t")
		if len(fields) == 7 && !strings.HasPrefix(fields[0], "#") {
			pairs = append(pairs, fields[5]+"="+fields[6])
			jarLines++
		} else if line != "" && !strings.HasPrefix(line, "HTTP/") && !isHeaderLine(line) {
			others++
		}
	}
	// Every line a response's header (a Set-Cookie among them), or a
	// jar's (where # lines are comments), or a trace's with the body's.
	if setCookies > 0 && jarLines == 0 && others == 0 || jarLines > 0 && setCookies == 0 || traceLines > 0 && jarLines == 0 {
		return strings.Join(pairs, "; "), cleared, request, true
	}
	return "", nil, "", false
}

// curlTrace returns the mark of a line of curl -v's trace and the line
// without it: '>' a request's header line, '<' a response's, '*' and
// '{' or '}' curl's own notes ("{ [5 bytes data]"); 0 and line for any
// other line. '<' or '>' alone ends a header block.
func curlTrace(line string) (mark byte, rest string) {
	switch {
	case line == "<" || line == ">":
		return line[0], ""
	case len(line) < 2 || line[1] != ' ' || strings.IndexByte("<>*{}", line[0]) < 0:
		return 0, line
	case (line[0] == '{' || line[0] == '}') && !strings.HasPrefix(line[2:], "["):
		return 0, line // not curl's "{ [5 bytes data]": a JSON document's
	}
	return line[0], textproto.TrimString(line[2:])
}

// cutHeader returns the value of line if it is the header field name
// (with its colon), of any case.
func cutHeader(line, name string) (string, bool) {
	if len(line) < len(name) || !strings.EqualFold(line[:len(name)], name) {
		return "", false
	}
	return textproto.TrimString(line[len(name):]), true
}

// isHeaderLine reports whether line is a header field, a name of token
// characters then a colon ("Cache-Control: no-store"), but not a Cookie
// header, which is the input itself.
func isHeaderLine(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	if !ok || name == "" || strings.EqualFold(name, "Cookie") {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// noteUntrimmed says on stderr, for input that was refused, when it
// begins or ends with white space other than what readInput trims (a
// vertical tab, a form feed, a no-break space from a web page or a chat):
// the refusal (bad encoding, no such cookie) would not say why.
func (e *env) noteUntrimmed(input string) {
	first, _ := utf8.DecodeRuneInString(input)
	last, _ := utf8.DecodeLastRuneInString(input)
	for _, r := range []rune{first, last} {
		if unicode.IsSpace(r) {
			fmt.Fprintf(e.stderr, "cookiesession inspect: note: the input begins or ends with %U, which neither inspect nor a server trims (only space, tab, CR and LF): if the copy added it, remove it\n", r)
			return
		}
	}
}

// noteEscaped says on stderr, for input that was refused, when it holds
// percent-escapes (session%3D...), which no token holds and no server
// decodes: a log, a URL or a HAR's query string encoded the copy, and the
// refusal (bad encoding at the '%', no such cookie) would not say so.
func (e *env) noteEscaped(input string) {
	decoded, err := url.PathUnescape(input)
	if err != nil || decoded == input {
		return
	}
	fmt.Fprintln(e.stderr, "cookiesession inspect: note: the input holds percent-escapes (%3D for '=', %3B for ';'), which no token holds and a server does not decode: what it was copied from encoded it; decode it (decodeURIComponent in JavaScript, urllib.parse.unquote in Python) and inspect that")
}

// cookieRequest builds the request a browser would send. A token never
// holds '=' (it is unpadded base64url), so input without one is a bare
// token for cookie name.
func cookieRequest(name, input string) (*http.Request, error) {
	if !strings.Contains(input, "=") {
		input = name + "=" + input
	}
	r, err := http.NewRequest(http.MethodGet, "http://inspect.invalid/", nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Cookie", input)
	if names := cookieNames(input); !slices.Contains(names, name) {
		return nil, fmt.Errorf("no cookie named %q in the input (found: %s)", name, shownNames(names))
	}
	return r, nil
}

// Bounds on the cookie names an error shows: a megabyte of cookies on
// stdin would otherwise make a megabyte of error.
const (
	maxShownNames    = 10
	maxShownNameSize = 64
)

// shownNames lists names, quoted, for an error: the first maxShownNames,
// each cut to maxShownNameSize bytes, one that may be a secret not shown,
// then how many more there are, or "none".
func shownNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	var shown []string
	for _, n := range names[:min(len(names), maxShownNames)] {
		if secrettext.Maybe(n) || secrettext.Ring(n) {
			// A key's secret pasted for a token: its '=' ends a name.
			shown = append(shown, "<a name of "+strconv.Itoa(len(n))+" bytes that may be a key's secret, not shown>")
			continue
		}
		if len(n) > maxShownNameSize {
			n = strings.ToValidUTF8(n[:maxShownNameSize], "") + "... (" + strconv.Itoa(len(n)) + " bytes)"
		}
		shown = append(shown, strconv.Quote(n))
	}
	if more := len(names) - len(shown); more > 0 {
		shown = append(shown, "and "+strconv.Itoa(more)+" more")
	}
	return strings.Join(shown, ", ")
}

// cookieNames returns the names in a Cookie header as the Manager reads
// them (FORMAT.md section 5, step 1), once each, in their order. net/http's
// parser drops a cookie whose value holds a tab or a lone quote; the
// Manager reads it and refuses it as bad encoding, and that is the reason
// to print.
func cookieNames(header string) []string {
	var names []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(header, ";") {
		name, _, _ := strings.Cut(textproto.TrimString(part), "=")
		if name = textproto.TrimString(name); name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// noteChunksBeyond warns when the input carries a chunk the options will
// not read: the token would then be cut short and fail authentication,
// which says nothing about the real cause.
func (e *env) noteChunksBeyond(r *http.Request, name string, maxChunks int) {
	next := name + "." + strconv.Itoa(maxChunks)
	if slices.Contains(cookieNames(r.Header.Get("Cookie")), next) {
		fmt.Fprintf(e.stderr, "cookiesession inspect: note: the input also has cookie %q, beyond -max-chunks %d\n", next, maxChunks)
	}
}

// maxLifetime is the longest MaxLifetime a Manager takes: the wire's
// uint32 of seconds.
const maxLifetime = (1<<32 - 1) * time.Second

// noteRefusal adds on stderr what the library's reason cannot say: the
// options that would have opened the token, or the likely cause of an
// authentication failure. The reason itself stays exactly as a server
// logs it.
func (e *env) noteRefusal(ring *cookiesession.KeyRing, opts cookiesession.Options, r *http.Request, err error) {
	if errors.Is(err, cookiesession.ErrExpired) {
		e.noteLongerLifetime(ring, opts, r, time.Time{})
		e.noteLongerMaxAge(ring, opts, r, time.Time{})
	}
	if c, cerr := r.Cookie(opts.Name); cerr == nil && len(c.Name)+len(c.Value) >= maxCookieSize && len(r.CookiesNamed(opts.Name+".1")) == 0 {
		fmt.Fprintf(e.stderr, "cookiesession inspect: note: cookie %q is %d bytes, as much as one cookie holds: it is likely the first chunk of a session split over several cookies; pass the whole Cookie header and the service's -max-chunks\n",
			opts.Name, len(c.Name)+len(c.Value))
	}
	var te *cookiesession.TokenError
	if errors.As(err, &te) && te.Reason == "authentication failed" {
		fmt.Fprintf(e.stderr, "cookiesession inspect: note: a key with this id but another secret, a token sealed for a cookie name other than %q (-name), and a changed or cut token all fail alike\n", opts.Name)
		for _, k := range ring.Keys() {
			if k.ID == te.KeyID {
				fmt.Fprintf(e.stderr, "cookiesession inspect: note: this ring's key %s has fingerprint %s: compare it with the FINGERPRINT that cookiesession list prints of the ring of the instance that set the cookie (or its metric cookiesession_key_info); another means another secret under one id\n",
					cookiesession.FormatKeyID(k.ID), k.Fingerprint)
			}
		}
	}
	if errors.As(err, &te) && errors.Is(err, cookiesession.ErrUnknownKey) {
		e.noteUnknownKey(ring, te.KeyID)
	}
}

// noteUnknownKey explains a token under a key the ring lacks, the usual
// answer to "users are being signed out": the bare reason does not say
// which keys the ring holds, nor the two ways it comes to lack one.
func (e *env) noteUnknownKey(ring *cookiesession.KeyRing, id uint32) {
	fmt.Fprintf(e.stderr, "cookiesession inspect: note: the ring holds keys %s, not %s: a server with this ring refuses the cookie and starts a fresh session, signing the user out. Either %s was removed before the sessions it sealed expired (put it back until MaxAge, or MaxLifetime for sessions with a Lifetime of their own, has passed since it last sealed), or the token was sealed by an instance whose ring holds it and this server's does not (compare that ring with list, or each instance's metrics keys)\n",
		keyIDs(ring), cookiesession.FormatKeyID(id), cookiesession.FormatKeyID(id))
}

// keyIDs lists ring's key ids, the primary marked.
func keyIDs(ring *cookiesession.KeyRing) string {
	var keys []string
	for _, k := range ring.Keys() {
		key := cookiesession.FormatKeyID(k.ID)
		if k.Primary {
			key += " (primary)"
		}
		keys = append(keys, key)
	}
	return strings.Join(keys, ", ")
}

// maxCookieSize is the Manager's default MaxCookieSize: a chunked
// session fills its first cookie to it.
const maxCookieSize = 4096

// noteLongerLifetime says when the session has a lifetime of its own
// ("remember me") that -max-lifetime cuts: a service with a larger
// MaxLifetime accepts it for longer, or accepts it at all when expires is
// zero (inspect refused it as expired). Without the note the operator
// would read a refusal, or an early expiry, the service does not make.
func (e *env) noteLongerLifetime(ring *cookiesession.KeyRing, opts cookiesession.Options, r *http.Request, expires time.Time) {
	cut := cmp.Or(opts.MaxLifetime, opts.MaxAge, 24*time.Hour)
	opts.MaxLifetime = maxLifetime
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		return
	}
	s, err := m.Load(r)
	if err != nil || s.IsNew() || !s.ExpiresAt().After(expires) {
		return
	}
	fmt.Fprintf(e.stderr, "cookiesession inspect: note: the session has a lifetime of its own (remember me) longer than -max-lifetime %v allows; a service whose MaxLifetime allows it keeps it until %s: pass the service's -max-lifetime\n",
		cut, s.ExpiresAt().UTC().Format(time.RFC3339))
}

// noteLongerMaxAge says when a session without a lifetime of its own
// carries a deadline later than -max-age allows: its token was sealed
// under a longer MaxAge (a Codec's, say a week-long magic link, or the
// service's before it was lowered), which a service of that MaxAge keeps
// until then. Without the note, -max-age's default of 24h shows such a
// token expired, or expiring, when the service keeps it.
func (e *env) noteLongerMaxAge(ring *cookiesession.KeyRing, opts cookiesession.Options, r *http.Request, expires time.Time) {
	cut := cmp.Or(opts.MaxAge, 24*time.Hour)
	// BrowserSession: a persistent cookie of this MaxAge is refused.
	opts.MaxAge, opts.MaxLifetime, opts.BrowserSession = maxLifetime, maxLifetime, true
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		return
	}
	s, err := m.Load(r)
	if err != nil || s.IsNew() || s.Lifetime() != (cookiesession.Lifetime{}) || !s.ExpiresAt().After(expires) {
		return
	}
	fmt.Fprintf(e.stderr, "cookiesession inspect: note: the token's own deadline, %s, is later than -max-age %v allows: it was sealed under a longer MaxAge, which a service of that MaxAge keeps until then: pass the service's -max-age\n",
		s.ExpiresAt().UTC().Format(time.RFC3339), cut)
}

// inspection is inspect's output.
type inspection struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	KeyID   string    `json:"key_id"`
	// KeyPrimary is false when the token was sealed under a key other than
	// the primary: an open-only key, which a server re-seals under the
	// primary on the next response, or one due to become the primary
	// within 60 s, under which servers keep it (the text output says
	// which; see keyIncoming).
	KeyPrimary bool `json:"key_primary"`
	// Lifetime is the session's own ("remember me"), absent when it follows
	// the service's Options.
	Lifetime *ownLifetime          `json:"lifetime,omitempty"`
	Values   map[string]typedValue `json:"values"`
	// keyIncoming: the key is scheduled to become the primary within the
	// 60 s of clock skew servers allow, so they seal the token under it
	// again rather than under the primary.
	keyIncoming bool
}

// ownLifetime is a session's Lifetime in whole seconds; 0 means the
// service's MaxAge or IdleTimeout.
type ownLifetime struct {
	MaxAge         int64 `json:"max_age_seconds"`
	IdleTimeout    int64 `json:"idle_timeout_seconds"`
	BrowserSession bool  `json:"browser_session"`
}

// String describes the lifetime for the text output.
func (l ownLifetime) String() string {
	seconds := func(n int64) string {
		if n == 0 {
			return "the service's"
		}
		return (time.Duration(n) * time.Second).String()
	}
	cookie := "persistent (Max-Age)"
	if l.BrowserSession {
		cookie = "browser session (no Max-Age)"
	}
	return fmt.Sprintf("own: max age %s, idle timeout %s, cookie %s", seconds(l.MaxAge), seconds(l.IdleTimeout), cookie)
}

// typedValue shows a value with its Go type, which the session keeps: an
// int and an int64 look the same in plain JSON. Go is set only for a value
// holding text that is not UTF-8, which JSON cannot carry (encoding/json
// writes U+FFFD for each such byte): the value as Go source spells it,
// byte for byte. GoKey is set when the value's name in -json is its key as
// Go source spells it (see jsonKey).
type typedValue struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
	Go    string `json:"go,omitempty"`
	GoKey bool   `json:"go_key,omitempty"`
}

// jsonKey returns the name of the key k in the values of -json, and
// whether it is k as Go source spells it. JSON cannot carry text that is
// not UTF-8: encoding/json writes U+FFFD for each such byte, so that two
// keys got one name and a reader kept one of their values. A key that
// begins with a quote is spelled too, so that no key's own text is the
// spelling of another.
func jsonKey(k string) (string, bool) {
	if utf8.ValidString(k) && !strings.HasPrefix(k, `"`) {
		return k, false
	}
	return strconv.Quote(k), true
}

func describeSession(s *cookiesession.Session, ring *cookiesession.KeyRing) inspection {
	out := inspection{
		ID:         s.ID(),
		Created:    s.CreatedAt().UTC(),
		Expires:    s.ExpiresAt().UTC(),
		KeyID:      cookiesession.FormatKeyID(s.KeyID()),
		KeyPrimary: s.KeyID() == ring.Primary(),
		Values:     make(map[string]typedValue, s.Len()),
	}
	for _, k := range ring.Keys() {
		if k.ID == s.KeyID() && !k.PromoteAt.IsZero() {
			until := time.Until(k.PromoteAt)
			out.keyIncoming = until > 0 && until <= 60*time.Second
		}
	}
	if l := s.Lifetime(); l != (cookiesession.Lifetime{}) {
		out.Lifetime = &ownLifetime{int64(l.MaxAge / time.Second), int64(l.IdleTimeout / time.Second), l.BrowserSession}
	}
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		name, spelled := jsonKey(k)
		tv := describeValue(v)
		tv.GoKey = spelled
		out.Values[name] = tv
	}
	return out
}

// describeValue names v's type as Go source spells it and renders the value
// so that encoding/json can print it losslessly, or, for text that is not
// UTF-8, sets Go.
func describeValue(v any) typedValue {
	tv := typedValue{Type: fmt.Sprintf("%T", v), Value: v}
	switch x := v.(type) {
	case nil:
		tv.Type = "nil"
	case []byte:
		tv.Type = "[]byte" // in standard base64, as encoding/json writes it
	case json.RawMessage:
		tv.Type = "json.RawMessage" // not jsontext.Value, its name under GOEXPERIMENT=jsonv2
	case time.Time:
		tv.Value = x.Format(time.RFC3339Nano)
	case time.Duration:
		tv.Value = x.String()
	case float64:
		tv.Value = jsonFloat(x, 64)
	case float32:
		tv.Value = jsonFloat(float64(x), 32)
	}
	if !validText(v) {
		tv.Go = fmt.Sprintf("%#v", v)
		if raw, ok := v.(json.RawMessage); ok {
			// Embedded as is, it would make the output invalid UTF-8.
			tv.Value, tv.Go = string(raw), "json.RawMessage("+strconv.Quote(string(raw))+")"
		}
	}
	return tv
}

// validText reports whether every string in v is UTF-8.
func validText(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case json.RawMessage:
		return utf8.Valid(x)
	case []string:
		return !slices.ContainsFunc(x, func(s string) bool { return !utf8.ValidString(s) })
	case map[string]string:
		for k, s := range x {
			if !utf8.ValidString(k) || !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// jsonFloat keeps NaN and the infinities, which JSON numbers cannot hold,
// as strings.
func jsonFloat(f float64, bits int) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	if bits == 32 {
		return float32(f)
	}
	return f
}
