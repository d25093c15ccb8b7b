// Package cookiesession keeps a web session entirely inside an encrypted
// cookie. There is no server-side store: the session's values are
// serialized, sealed with XChaCha20-Poly1305 under a rotating [KeyRing], and
// sent to the client. net/http middleware opens the session when a handler
// first uses it and writes it back only when something changed.
//
// # Quick start
//
//	ring, err := cookiesession.LoadKeyRingEnv() // COOKIESESSION_KEYS
//	if err != nil {
//		log.Fatal(err)
//	}
//	sessions, err := cookiesession.New(ring, cookiesession.Options{IdleTimeout: 30 * time.Minute})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		s := cookiesession.FromContext(r.Context())
//		if err := s.Set("visits", s.GetInt("visits")+1); err != nil {
//			http.Error(w, err.Error(), http.StatusInternalServerError) // a type Set cannot store
//			return
//		}
//		fmt.Fprintf(w, "visit %d\n", s.GetInt("visits"))
//	})
//	srv := &http.Server{
//		Addr:              ":8080",
//		Handler:           sessions.Handler(mux),
//		ReadHeaderTimeout: 10 * time.Second, // slow clients cannot hold connections
//	}
//	log.Fatal(srv.ListenAndServe())
//
// Make a key ring with the CLI (go run github.com/seed-ff2808ae/cookiesession/cmd/cookiesession keygen)
// or with [GenerateKey] and [NewKeyRing].
//
// # For express-session users
//
// Every option and req.session member of express-session 1.18 and 1.19, and what
// takes its place here:
//
//	express-session               cookiesession
//	secret (array)                KeyRing: one primary key, the rest open-only; the key id is in the token
//	name                          Options.Name
//	genid                         none: ids are 16 bytes from crypto/rand; with no store, an id looks nothing up
//	cookie.maxAge / expires       Options.MaxAge, enforced by the server, counted from login, not again from
//	                              each change as express does; per session: Session.SetLifetime.
//	                              In whole seconds with a unit: a bare 86400000 (milliseconds) is 86.4ms, refused.
//	                              Over 400 days, which browsers cut, it needs an IdleTimeout of 400 days at most
//	cookie.maxAge = null          Options.BrowserSession, or Lifetime{BrowserSession: true} per session.
//	                              express's default; the Manager's is a persistent cookie for MaxAge
//	cookie.domain / path          Options.Domain, Options.Path
//	cookie.httpOnly / secure      on by default: Options.DisableHttpOnly, Options.DisableSecure
//	cookie.sameSite               Options.SameSite (default Lax)
//	cookie.partitioned            Options.Partitioned
//	cookie.priority               not written: net/http's Cookie has no Priority attribute
//	rolling: true                 Options.IdleTimeout: sliding window, refresh throttled by RefreshThreshold
//	                              (by default once half the window is gone, so half of it idle can end a
//	                              session; 1 refreshes at each request), by requests that use the session;
//	                              Options.MaxAge, the absolute limit, must be longer, or Options.MaxLifetime
//	                              if set (New refuses 24h and 24h)
//	saveUninitialized: false      always: no cookie until a value or a Lifetime is stored
//	resave                        not needed: the cookie is re-issued only on change, refresh or re-key
//	store                         none: the state lives in the cookie
//	unset: 'destroy'              always: Destroy, or a session left empty, expires the cookie
//	proxy                         not needed: Secure is written as configured (one answering plain HTTP is logged)
//	req.session.x = y             s.Set("x", y); s.Get("x") and typed getters such as GetString
//	req.session.id                s.ID(); a session left with no values ends, and the next gets a new id
//	req.session.cookie            s.ExpiresAt(), s.Lifetime(), s.SetLifetime; the attributes are the Manager's Options
//	req.session.regenerate()      s.Destroy(), then store: new id, no old values, no Lifetime; s.Renew() keeps the values and Lifetime
//	req.session.destroy()         s.Destroy(): every cookie chunk is expired; no clearCookie needed
//	req.session.reload()          not needed: the session is this request's cookie; without the middleware, Manager.Load reads it again
//	req.session.touch()           s.Touch(): forces a refresh, which slides IdleTimeout; MaxAge it never extends
//	req.session.save()            Manager.Save(w, r, s): returns an error; not needed before a redirect
//
// # Using the session
//
// The middleware opens the cookie at the session's first use, so a request
// whose handler never touches its session (a static file, a health check)
// does no crypto and gets no Set-Cookie, Vary or Cache-Control change.
// [Session.SkipRefresh] reads a session without sliding its idle window,
// for polling endpoints, even when the request stores a value; one that
// changes nothing neither re-keys the token nor clears a refused cookie,
// so a poll undoes nothing a parallel request (a logout, a login) set.
// [Session.SetLifetime] gives one session its own absolute lifetime, idle
// timeout and persistence ("remember me"), bounded by Options.MaxLifetime.
// Several Managers can be stacked (an auth cookie and a preferences
// cookie): [Manager.FromContext] finds each one's session. Without the
// middleware, [Manager.Load] reads the session and [Manager.Save] writes
// it; under the middleware, Load returns the middleware's session, so a
// request has one session per Manager. The numeric getters convert any
// stored number their type holds without loss: a value stored as int64, or
// as the float64 JSON decodes into, reads back through GetInt. A getter
// that finds a value it cannot return gives the zero value, as for a
// missing key, and the read is logged at Warn once per getter, key and
// stored type: a second key read as the wrong type, in other code, is
// logged too (past 64 such causes, once a minute).
//
// # When a cookie is sent
//
// A response carries Set-Cookie only when the values changed (setting the
// value a key already holds is no change), Renew, Destroy
// or Touch was called, a rolling refresh is due, the cookie was
// sealed under a key that is no longer primary, the request's cookie was
// refused and must be cleared, or the request carried a cookie of
// Options.Retired, which is expired (and, when its entry sets Carry and
// the request carried no cookie of the Manager's names, whose session the
// response writes under the Manager's Name); not for a key, a refused
// cookie or a carry in a request that called SkipRefresh and changed
// nothing. A session that never held a value
// sets no cookie (it may still expire a refused or retired one), unless
// SetLifetime gave it a Lifetime: a "remember me" set a request before
// the values are stored is kept in a cookie of its own until they are
// (TestLifetimeBeforeValuesKept).
//
// A rolling refresh is due when less than RefreshThreshold of IdleTimeout
// remains and a re-seal would move the deadline: near the end of MaxAge it
// would not. It is due too when the cookie's deadline lies beyond the idle
// window by more than a minute, the clock skew allowed between instances:
// IdleTimeout was set or shortened since the cookie was sealed.
//
// The middleware writes the cookie exactly once, when the response is
// committed: at the first final WriteHeader (1xx responses such as 103 Early
// Hints pass through, without the lines of a Save, but none goes to a
// request that says HTTP/1.0), the first Write, a Flush (also through
// [http.ResponseController]), before a Hijack (into the header map: a
// library that hijacks and writes its own handshake, such as
// gorilla/websocket, must be given the Set-Cookie lines; lines that a Save
// did not write before the Hijack are logged once at Warn, unless
// httputil.ReverseProxy hijacked, which sends them), or when the
// handler returns without writing. It never buffers the body. Set-Cookie
// lines the handler added for the session's cookie names are replaced by
// the Manager's when it writes the cookie, not duplicated; in a response
// where it writes none they go out as they are. Either is logged once at
// Warn: another writer of the cookie loses its line or replaces the
// client's session. End a session with Destroy, not http.SetCookie.
// Every response whose handler used its session gets "Vary: Cookie", and a
// response that sets a cookie gets "Cache-Control: no-store" unless it
// already holds a bare private or no-store directive (private="Set-Cookie"
// still lets a shared cache store the rest, and one inside a quoted string,
// no-cache="Foo, private", is none), so that no shared cache stores
// one user's cookie for another. So does a field that a CDN obeys in place
// of Cache-Control: CDN-Cache-Control, a vendor's Cloudflare-CDN-Cache-Control,
// Surrogate-Control. Set-Cookie and Cache-Control lines
// are judged and replaced whatever the case of the header key they were added under.
// A response that used the session and writes no cookie keeps its fields:
// one that lets a shared cache serve it again without asking (an s-maxage,
// else a max-age, above 0, or else public, without private, no-store or
// no-cache) is logged at Warn once per call
// site and route, since some CDNs ignore Vary: Cookie and would serve it
// to the next user.
// A session first read after its response went out cannot add Vary: that
// page may reach every user through a shared cache, and the first such
// read is logged at Warn: read the session before writing. A read once the
// request's context has ended, or after a Hijack, is not logged: it reaches
// no page a cache keeps.
//
// A session too large for MaxCookieSize x MaxChunks (for a Partitioned
// session, 10240 bytes in all) is not written: Save returns an error
// matching [ErrTooLarge], and the middleware calls
// Options.ErrorHandler (by default a 500) before anything reaches the client.
// The client keeps its previous cookie.
//
// A cookie that is tampered with, truncated, expired or sealed for another
// cookie name gives the request a fresh empty session and is cleared (by
// the first request that does not call SkipRefresh or that stores); the
// reason ("session expired at ...", "authentication failed") is logged at
// debug level through Options.Logger, which is called with no session
// locked: its handler may read the session of the context it is given,
// to tag each line with the session's ID. A cookie under a key id this
// instance does not hold may be newer than its ring: it gives a fresh
// session too but is not cleared unless the handler stores something, or
// calls Delete or Clear (a logout, which must not leave the cookie for the
// instances that read it), and "unknown key id 1a2b3c4d" is logged at
// Warn, once a minute per key id. So is a token "created in the future" by
// an instance whose clock runs more than 60 seconds ahead: another
// instance, or this one later, opens it.
//
// # Operators
//
// [Manager.Metrics] counts tokens opened per key id, cookies refused per
// reason (with how many unknown key ids the last minute saw: one for a
// removed key, many for forged cookies), re-seals from an old key, writes,
// clears, sessions too large and cookies set that browsers drop, and lists
// the running ring (ids, primary, scheduled promotions; never a secret)
// with how its reloads from file went ([ReloadStatus]: a failing reload
// leaves the instance on its old keys). [Manager.Var] publishes it through
// expvar. An old key whose opened count has stopped rising on
// every instance can be removed.
//
// # Security model
//
// The whole token is encrypted and authenticated with XChaCha20-Poly1305
// and a random 192-bit nonce per seal. The cookie name is bound into the
// authenticated data, so a token cannot be moved to another cookie. The
// client can read nothing but the format version and the key id, and can
// change nothing without the token being refused.
//
// The server enforces the lifetime: each token carries its creation time and
// its own deadline, and Options.MaxAge is checked again against the creation
// time on every request, so a stolen cookie cannot be replayed after MaxAge
// and shortening MaxAge takes effect at once.
//
// What cannot be done without a store: a single session cannot be revoked
// before it expires, and a client may replay an older cookie of its own
// session until that cookie's deadline (the last writer wins on parallel
// requests, too). Options.Validate closes the first gap: it runs on every
// loaded session, so a per-user generation counter kept in your user
// record and copied into the session at login revokes every session of a
// user when it is incremented ("log out everywhere"). Destroy does not
// revoke a copy of the cookie taken before it: to make logout stick, keep
// the ids (Session.ID, the same in every cookie of one session) of ended
// sessions until they would have expired, and refuse them in Validate.
// Removing a key from the ring revokes every session sealed under it at
// once.
//
// Another host of the site, or a network attacker on a plain-HTTP page,
// can set a cookie of the session's name for a parent domain or a longer
// path (cookie tossing), which the browser sends before the session's own.
// The first cookie of the name that opens, of the first five and the last
// four, is taken, and a request that carried two values of the name is
// never cleared and is logged at Warn, so junk cannot end a session (a
// cookie repeated with one value, as a Lambda function URL's event carries
// each, is one cookie). But an attacker's own genuine session, tossed
// first, opens. A "__Host-" name (Options.Name "__Host-session") prevents
// both.
//
// Keys are 32 bytes from crypto/rand with random 32-bit ids. A token names
// its key; opening never tries other keys. Rotate in three stages, across a
// fleet without logging anyone out: add the new key everywhere (it opens but
// does not seal), promote it (by hand, or by a promote_at time that every
// instance honours by its own clock), then remove the old key once the
// counters show it idle and MaxAge (MaxLifetime, for sessions with a
// Lifetime of their own) has passed since it last sealed: a session not
// used meanwhile does not show in the counters. Tokens opened under a
// key that is no longer primary are re-sealed under the primary in the same
// response; a token under a key whose promote_at is less than 60 seconds
// away (another instance's clock may be ahead) is never re-sealed back under
// the outgoing key.
//
// # Wire format and compatibility
//
// The token format is documented byte by byte in FORMAT.md, with known-answer
// vectors in testdata/vectors.json, so that another language can decode it.
// Every token starts with a version byte; the layouts of versions 1 and 2
// and the value tags never change meaning. Version 2 only carries a
// session's own Lifetime; sessions without one are sealed as version 1, which
// older releases read. A future format will use a new version byte, and
// this package will keep opening versions 1 and 2 for at least one major
// version after that.
package cookiesession
