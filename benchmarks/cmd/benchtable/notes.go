package main

import (
	"fmt"
	"io"
	"strings"
)

func renderNotes(w io.Writer) {
	fmt.Fprint(w, `## What is measured

- **raw**: the floor. XChaCha20-Poly1305 (golang.org/x/crypto, AEAD built once) over exactly the plaintext
  cookiesession seals (32-byte header + serialized values), with a fresh crypto/rand nonce, then
  base64.RawURLEncoding into a string; decode is base64 decode + Open in place, then a copy of the plaintext into
  a string the caller owns (any decoder that returns data must make one), with nothing parsed from it.
- **cookiesession**: `+"`Codec.Seal`"+` / `+"`Codec.Open`"+` (Open returns the decoded values), and `+"`Manager.Handler`"+`
  with default options per request.
- **securecookie-gob / securecookie-json**: gorilla/securecookie with a 32-byte HMAC-SHA256 key and a 32-byte
  AES key, Encode / Decode of a `+"`map[string]interface{}`"+` with the same values; MaxLength(0).
- **gorilla-sessions**: CookieStore with the same keys, `+"`store.Get`"+` and, when modifying, `+"`session.Save`"+`.
- **Per request**: a pre-built GET carrying the fixture's cookie; the read-only handler reads `+"`user_id`"+`,
  the modifying one also stores a new value and saves; both write a two-byte body. Each iteration copies the
  request (gorilla/sessions writes its registry into the request it is given) and serializes the response as
  net/http's server does (status line, `+"`Header.Write`"+`, body) into a reused buffer; the **bare** handler pays the
  same, so "over bare" is the session package's cost, including that of the headers it sets.
- Parallel figures come from b.RunParallel at GOMAXPROCS = nproc; the speed-up is serial ns/op ÷ parallel ns/op.
- Ratios "X ÷ this" are X's time over this package's: how many times faster this package is.
- **BenchmarkPaired** times both sides of each target's ratio in one loop, alternating blocks of 32 operations
  of each; its lines report num-ns/op, den-ns/op and x (num ÷ den). The targets use it where it ran.

`)
}

func renderMachine(w io.Writer, in *inputs) {
	m := in.machine
	fmt.Fprintf(w, "## Machine and command\n\n")
	fmt.Fprintf(w, "- cookiesession %s; %s\n", m.revision, m.goVersion)
	fmt.Fprintf(w, "- CPU: %s, nproc %s\n", m.cpu, m.nproc)
	fmt.Fprintf(w, "- Date: %s; load average at the start: %s\n", m.date, m.load)
	fmt.Fprintf(w, "- Command (in benchmarks/):\n\n```sh\n%s\n```\n\n", in.command)
	if in.benchstat != "" {
		fmt.Fprintf(w, "<details><summary>benchstat</summary>\n\n```\n%s\n```\n\n</details>\n",
			strings.TrimRight(in.benchstat, "\n"))
	}
}
