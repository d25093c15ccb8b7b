package cookiesession_test

// Sign-in flows as applications write them on top of the session: an
// OpenID Connect login against a fake identity provider (authorization
// code with PKCE, state and nonce kept in the session across the round
// trip), with response_mode query and form_post; Renew at login, a flash
// after the redirect, remember me, step-up re-authentication, logout and
// logout everywhere through Validate, requests racing a logout, and
// http.CrossOriginProtection in front. The browser (helpers_test.go)
// withholds cookies by SameSite as browsers do.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

const (
	appHost      = "app.example.com"
	idpHost      = "login.idp.example.net"
	clientID     = "app"
	clientSecret = "app-secret-for-tests-only"
	stepUpWithin = 5 * time.Minute
)

// ---- the identity provider ---------------------------------------------

// idp signs alice in at its consent page (again with prompt=login), sends
// the browser back by response_mode, and at its token endpoint checks the
// PKCE verifier and returns an ID token signed with the client secret.
type idp struct {
	clock    *fakeClock
	issuer   string // as the browser reaches it
	mu       sync.Mutex
	codes    map[string]idpGrant
	authTime time.Time // when alice last signed in here
}

type idpGrant struct {
	redirectURI, challenge, nonce string
	authTime                      time.Time
}

func (p *idp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
			http.Error(w, "invalid_request", http.StatusBadRequest)
			return
		}
		writeForm(w, "/consent", q) // "Allow app to sign you in?"
	})
	mux.HandleFunc("POST /consent", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if p.authTime.IsZero() || r.FormValue("prompt") == "login" {
			p.authTime = p.clock.Now()
		}
		code := randomToken()
		p.codes[code] = idpGrant{r.FormValue("redirect_uri"), r.FormValue("code_challenge"), r.FormValue("nonce"), p.authTime}
		p.mu.Unlock()
		back := url.Values{"code": {code}, "state": {r.FormValue("state")}}
		if r.FormValue("response_mode") == "form_post" {
			writeForm(w, r.FormValue("redirect_uri"), back) // submitted by script, cross-site
			return
		}
		http.Redirect(w, r, r.FormValue("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		grant, ok := p.codes[r.FormValue("code")]
		delete(p.codes, r.FormValue("code")) // a code is used once
		p.mu.Unlock()
		if !ok || r.FormValue("client_secret") != clientSecret || r.FormValue("redirect_uri") != grant.redirectURI ||
			s256(r.FormValue("code_verifier")) != grant.challenge {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		now := p.clock.Now().Unix()
		idToken := signIDToken(idClaims{Issuer: p.issuer, Subject: "alice", Audience: clientID, Nonce: grant.nonce,
			IssuedAt: now, Expiry: now + 300, AuthTime: grant.authTime.Unix()})
		_ = json.NewEncoder(w).Encode(map[string]string{"id_token": idToken, "token_type": "Bearer", "access_token": randomToken()})
	})
	return mux
}

// writeForm answers with a page whose form posts fields to action: the
// IdP's consent page, and its form_post answer, which a script submits.
func writeForm(w http.ResponseWriter, action string, fields url.Values) {
	fmt.Fprintf(w, "<form method=\"post\" action=\"%s\">\n", html.EscapeString(action))
	for name, vals := range fields {
		fmt.Fprintf(w, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", html.EscapeString(name), html.EscapeString(vals[0]))
	}
	fmt.Fprintln(w, "</form>")
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit posts the form on the page page, shown at pageURL, as a click or a
// script does.
func (b *browser) submit(pageURL, page string) (*http.Response, string) {
	b.t.Helper()
	action := formAction.FindStringSubmatch(page)
	if action == nil {
		b.t.Fatalf("no form on %s:\n%s", pageURL, page)
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		b.t.Fatal(err)
	}
	target, err := base.Parse(html.UnescapeString(action[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	form := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return b.navigate(pageURL, http.MethodPost, target.String(), form)
}

type idClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Nonce    string `json:"nonce"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	AuthTime int64  `json:"auth_time"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func signIDToken(c idClaims) string {
	payload, _ := json.Marshal(c)
	signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func verifyIDToken(token string) (idClaims, error) {
	var c idClaims
	header, rest, _ := strings.Cut(token, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(header + "." + payload))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if header != jwtHeader || err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return c, errors.New("bad ID token signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(raw, &c)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomToken() string { return rand.Text() }

// ---- the application ---------------------------------------------------

// pendingLogin is what a login keeps in the session between the redirect
// to the IdP and the callback.
type pendingLogin struct {
	State, Nonce, Verifier, ReturnTo string
	Remember, StepUp                 bool
}

// rp is the application, configured the ways the tests compare.
type rp struct {
	t        *testing.T
	clock    *fakeClock
	ring     *cookiesession.KeyRing
	log      *syncBuffer
	sessions *cookiesession.Manager // the user's session
	pending  *cookiesession.Manager // where a login in progress waits: sessions, or a SameSite=None one
	idp      *idp
	idpSrv   *httptest.Server
	self     string // the app's origin as the browser reaches it
	mode     string // response_mode

	keyByState        bool // each login under its own key, so that two tabs can sign in at once
	finishOnGet       bool // a form_post callback redirects to a GET that signs the user in
	forgetRemember    bool // set a Lifetime only when "remember me" is ticked
	endOnLogout       bool // keep the ids of ended sessions, refused in Validate
	revokeByCreatedAt bool // compare a revocation with CreatedAt, not a login time kept in the session

	mu      sync.Mutex
	ended   map[string]bool
	revoked map[string]time.Time // user -> sessions signed in before are refused
	release chan struct{}        // /slow waits on it
	started chan struct{}        // /slow says it has read the session
}

type rpConfig struct {
	opts        cookiesession.Options // the user's session
	pendingOpts *cookiesession.Options
	mode        string
	bypass      bool // exempt POST /callback from CrossOriginProtection, as form_post needs
}

// newRP starts the IdP and the application and returns them with a browser
// that reaches both.
func newRP(t *testing.T, cfg rpConfig, configure func(*rp)) (*rp, *browser) {
	t.Helper()
	a := &rp{t: t, clock: newFakeClock(fixedNow), ring: ringOf(t, keyA), log: new(syncBuffer), mode: cfg.mode,
		ended: map[string]bool{}, revoked: map[string]time.Time{}}
	if configure != nil {
		configure(a)
	}
	a.idp = &idp{clock: a.clock, codes: map[string]idpGrant{}}
	a.idpSrv = httptest.NewTLSServer(a.idp.routes())
	t.Cleanup(a.idpSrv.Close)
	opts := cfg.opts
	opts.Now, opts.Logger, opts.Validate = a.clock.Now, debugLogger(a.log), a.validate
	var err error
	if a.sessions, err = cookiesession.New(a.ring, opts); err != nil {
		t.Fatal(err)
	}
	a.pending = a.sessions
	if cfg.pendingOpts != nil {
		p := *cfg.pendingOpts
		p.Now, p.Logger = a.clock.Now, debugLogger(a.log)
		if a.pending, err = cookiesession.New(a.ring, p); err != nil {
			t.Fatal(err)
		}
	}
	protection := http.NewCrossOriginProtection()
	if cfg.bypass {
		// The state check guards the callback: it must take the IdP's POST.
		protection.AddInsecureBypassPattern("POST /callback")
	}
	h := a.sessions.Handler(a.routes())
	if a.pending != a.sessions {
		h = a.sessions.Handler(a.pending.Handler(a.routes()))
	}
	app := httptest.NewTLSServer(protection.Handler(h))
	t.Cleanup(app.Close)
	b := newBrowser(t, map[string]*httptest.Server{appHost: app, idpHost: a.idpSrv})
	a.self, a.idp.issuer = strings.TrimSuffix(b.url(appHost, ""), "/"), strings.TrimSuffix(b.url(idpHost, ""), "/")
	return a, b
}

func (a *rp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := a.sessions.FromContext(r.Context())
		flashes := s.Flashes() // before the body, which commits the cookie
		fmt.Fprintf(w, "user=%s flashes=%q cart=%s", s.GetString("user"), flashes, s.GetString("cart"))
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		_ = a.sessions.FromContext(r.Context()).Set("cart", r.FormValue("item"))
	})
	mux.HandleFunc("GET /login", a.startLogin)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /callback", a.callback)
	mux.HandleFunc("GET /login/done", func(w http.ResponseWriter, r *http.Request) {
		var login pendingLogin
		tx := a.pending.FromContext(r.Context())
		if ok, err := tx.GetJSON("verified", &login); !ok || err != nil {
			http.Error(w, "no login to finish", http.StatusBadRequest)
			return
		}
		tx.Delete("verified")
		var c idClaims
		_, _ = tx.GetJSON("claims", &c)
		tx.Delete("claims")
		a.signIn(w, r, login, c)
	})
	mux.HandleFunc("POST /account/delete", func(w http.ResponseWriter, r *http.Request) {
		s := a.sessions.FromContext(r.Context())
		if s.GetString("user") == "" {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		if a.clock.Now().Sub(s.GetTime("auth_time")) > stepUpWithin {
			http.Error(w, "sign in again to delete your account", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "deleted")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := a.sessions.FromContext(r.Context())
		if a.endOnLogout && s.Has("user") {
			a.mu.Lock()
			a.ended[s.ID()] = true // a table with a TTL of CreatedAt + MaxAge in production
			a.mu.Unlock()
		}
		s.Destroy()
		s.AddFlash("Signed out") // a new, anonymous session
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		s := a.sessions.FromContext(r.Context())
		now, user := a.clock.Now(), s.GetString("user") // opens the session: Validate runs here, outside mu
		a.mu.Lock()
		a.revoked[user] = now
		a.mu.Unlock()
		s.Renew() // this device stays signed in, in a new session
		_ = s.Set("login_at", now)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		s := a.sessions.FromContext(r.Context())
		if r.URL.RawQuery == "read" {
			s.GetString("user")
		} else {
			_ = s.Set("last_page", "/slow")
		}
		a.started <- struct{}{}
		<-a.release
		fmt.Fprintf(w, "user=%s", s.GetString("user"))
	})
	return mux
}

func (a *rp) validate(r *http.Request, s *cookiesession.Session) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended[s.ID()] {
		return errors.New("session ended by logout")
	}
	revokedAt, ok := a.revoked[s.GetString("user")]
	signedIn := s.GetTime("login_at")
	if a.revokeByCreatedAt {
		signedIn = s.CreatedAt()
	}
	if ok && signedIn.Before(revokedAt) {
		return errors.New("signed out everywhere")
	}
	return nil
}

func (a *rp) startLogin(w http.ResponseWriter, r *http.Request) {
	tx := a.pending.FromContext(r.Context())
	login := pendingLogin{State: randomToken(), Nonce: randomToken(), Verifier: randomToken() + randomToken(),
		ReturnTo: r.FormValue("return_to"), Remember: r.FormValue("remember") == "on", StepUp: r.FormValue("prompt") == "login"}
	if err := tx.SetJSON(a.pendingKey(login.State), login); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {a.self + "/callback"},
		"scope": {"openid"}, "state": {login.State}, "nonce": {login.Nonce},
		"code_challenge": {s256(login.Verifier)}, "code_challenge_method": {"S256"}, "response_mode": {a.mode}}
	if login.StepUp {
		q.Set("prompt", "login")
	}
	http.Redirect(w, r, a.idp.issuer+"/authorize?"+q.Encode(), http.StatusFound)
}

func (a *rp) pendingKey(state string) string {
	if a.keyByState {
		return "login:" + state
	}
	return "login"
}

func (a *rp) callback(w http.ResponseWriter, r *http.Request) {
	tx := a.pending.FromContext(r.Context())
	state := r.FormValue("state")
	var login pendingLogin
	ok, err := tx.GetJSON(a.pendingKey(state), &login)
	if !ok || err != nil || subtle.ConstantTimeCompare([]byte(login.State), []byte(state)) != 1 {
		http.Error(w, "state mismatch", http.StatusBadRequest)
		return
	}
	tx.Delete(a.pendingKey(state)) // the state is good once
	claims, err := a.exchange(r.FormValue("code"), login.Verifier)
	if err == nil && (claims.Issuer != a.idp.issuer || claims.Audience != clientID ||
		subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(login.Nonce)) != 1 || a.clock.Now().Unix() >= claims.Expiry) {
		err = errors.New("ID token refused")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if a.finishOnGet {
		// The user's own Lax session is not sent with this cross-site
		// POST; it is with the top-level GET this redirects to.
		_ = tx.SetJSON("verified", login)
		_ = tx.SetJSON("claims", claims)
		http.Redirect(w, r, "/login/done", http.StatusSeeOther)
		return
	}
	a.signIn(w, r, login, claims)
}

// exchange redeems code at the IdP's token endpoint, over the back channel.
func (a *rp) exchange(code, verifier string) (idClaims, error) {
	resp, err := a.idpSrv.Client().PostForm(a.idpSrv.URL+"/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {a.self + "/callback"},
		"client_id": {clientID}, "client_secret": {clientSecret}})
	if err != nil {
		return idClaims{}, err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		return idClaims{}, fmt.Errorf("token endpoint: %d %v", resp.StatusCode, err)
	}
	return verifyIDToken(tok.IDToken)
}

func (a *rp) signIn(w http.ResponseWriter, r *http.Request, login pendingLogin, c idClaims) {
	s := a.sessions.FromContext(r.Context())
	s.Renew() // a new id for the signed-in session
	err := errors.Join(s.Set("user", c.Subject), s.Set("auth_time", time.Unix(c.AuthTime, 0)), s.Set("login_at", a.clock.Now()))
	switch {
	case login.Remember:
		err = errors.Join(err, s.SetLifetime(cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour, IdleTimeout: 7 * 24 * time.Hour}))
	case !a.forgetRemember:
		err = errors.Join(err, s.SetLifetime(cookiesession.Lifetime{BrowserSession: true}))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.AddFlash("Signed in as " + c.Subject)
	returnTo := login.ReturnTo
	if !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") {
		returnTo = "/" // no open redirect
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// login runs a sign-in from the app's home page to the page it ends on.
func (a *rp) login(b *browser, query string) (*http.Response, string) {
	a.t.Helper()
	consentURL, consent := a.startAt(b, query)
	return a.consent(b, consentURL, consent)
}

// startAt follows /login?query to the IdP's consent page.
func (a *rp) startAt(b *browser, query string) (string, string) {
	a.t.Helper()
	resp, page := b.navigate(a.self+"/", http.MethodGet, a.self+"/login?"+query, nil)
	if resp.Request.URL.Hostname() != idpHost {
		a.t.Fatalf("/login ended at %s, not at the IdP: %d %s", resp.Request.URL, resp.StatusCode, page)
	}
	return resp.Request.URL.String(), page
}

// consent allows the login on the consent page and follows the IdP back,
// submitting its form_post answer as its script would.
func (a *rp) consent(b *browser, consentURL, consent string) (*http.Response, string) {
	a.t.Helper()
	resp, page := b.submit(consentURL, consent)
	if a.mode == "form_post" {
		return b.submit(resp.Request.URL.String(), page)
	}
	return resp, page
}

// record opens the browser's token of the user's session.
func (a *rp) record(b *browser, name string) cookiesession.Record {
	a.t.Helper()
	codec, err := cookiesession.NewCodec(a.ring, cookiesession.CodecOptions{Name: name, MaxLifetime: 30 * 24 * time.Hour})
	if err != nil {
		a.t.Fatal(err)
	}
	rec, err := codec.OpenAt(b.cookie(appHost, name), a.clock.Now())
	if err != nil {
		a.t.Fatalf("the browser's %s cookie: %v", name, err)
	}
	return rec
}

func has(rec cookiesession.Record, key string) bool {
	_, ok := rec.Values.Get(key)
	return ok
}

// ---- the tests ---------------------------------------------------------

// home shows the home page, as the user's next click does.
func home(a *rp, b *browser) string {
	a.t.Helper()
	_, page := b.navigate(a.self+"/", http.MethodGet, a.self+"/", nil)
	return page
}

// TestOIDCLoginQueryMode signs in with response_mode=query, keeping the
// state, nonce and PKCE verifier in the user's own SameSite=Lax session:
// the IdP's redirect back is a top-level GET, which carries the cookie.
// Renew gives the signed-in session a new id and keeps the cart, the
// flash shows once after the redirect, and the callback cannot be replayed.
func TestOIDCLoginQueryMode(t *testing.T) {
	a, b := newRP(t, rpConfig{opts: cookiesession.Options{Name: "__Host-session"}, mode: "query"}, nil)
	b.navigate(a.self+"/", http.MethodPost, a.self+"/cart", url.Values{"item": {"book"}})
	anonymous := a.record(b, "__Host-session")

	consentURL, consent := a.startAt(b, "return_to=/")
	if rec := a.record(b, "__Host-session"); rec.ID != anonymous.ID || !has(rec, "login") {
		t.Fatalf("the pending login is not in the session: %v", rec.Values.Keys())
	}
	resp, page := a.consent(b, consentURL, consent)
	if resp.StatusCode != http.StatusOK || page != `user=alice flashes=["Signed in as alice"] cart=book` {
		t.Fatalf("after the login: %d %q", resp.StatusCode, page)
	}
	signedIn := a.record(b, "__Host-session")
	if signedIn.ID == anonymous.ID || has(signedIn, "login") {
		t.Errorf("signed-in session: id renewed %v, pending login left %v", signedIn.ID != anonymous.ID, has(signedIn, "login"))
	}
	if page := home(a, b); page != `user=alice flashes=[] cart=book` {
		t.Errorf("next page: %q, want the flash gone", page)
	}

	// The browser goes back to the callback: the state was used.
	callback := resp.Request.Response.Request.URL.String() // the 303 came from it
	if !strings.Contains(callback, "/callback?") {
		t.Fatalf("no callback in the redirect chain: %s", callback)
	}
	resp, page = b.navigate(a.idp.issuer+"/consent", http.MethodGet, callback, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "state mismatch") {
		t.Errorf("replayed callback: %d %q", resp.StatusCode, page)
	}
	if lines := a.log.lines("cross-site"); len(lines) > 0 {
		t.Errorf("a query-mode login logged:\n%s", strings.Join(lines, "\n"))
	}
}

// TestOIDCFormPostUnderLax is response_mode=form_post with the login kept
// in the default SameSite=Lax session: the IdP's page posts the code back
// cross-site, and browsers send no Lax cookie with that POST (nor a Strict
// one with the query mode's GET). The callback finds no login and answers
// "state mismatch", as it would for a forged one; the Manager logs why, once. CrossOriginProtection, in front, refuses
// that POST outright until the callback is exempted.
func TestOIDCFormPostUnderLax(t *testing.T) {
	t.Run("CrossOriginProtection", func(t *testing.T) {
		a, b := newRP(t, rpConfig{mode: "form_post"}, nil)
		resp, page := a.login(b, "")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "cross-origin") {
			t.Errorf("form_post callback without the bypass: %d %q", resp.StatusCode, page)
		}
	})
	for _, tc := range []struct {
		name     string
		sameSite http.SameSite
		mode     string
		method   string
	}{
		{"Lax", http.SameSiteLaxMode, "form_post", "POST"},
		{"unset", http.SameSiteDefaultMode, "form_post", "POST"},
		{"Strict", http.SameSiteStrictMode, "form_post", "POST"},
		{"Strict, query", http.SameSiteStrictMode, "query", "GET"}, // Strict withholds it from a cross-site GET too
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newRP(t, rpConfig{opts: cookiesession.Options{SameSite: tc.sameSite}, mode: tc.mode, bypass: true}, nil)
			resp, page := a.login(b, "")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "state mismatch") {
				t.Fatalf("form_post callback: %d %q", resp.StatusCode, page)
			}
			if resp.Request.Header.Get("Cookie") != "" {
				t.Errorf("the callback carried %q", resp.Request.Header.Get("Cookie"))
			}
			lines := a.log.lines("level=WARN")
			if len(lines) != 1 || !strings.Contains(lines[0], "a cross-site request read the session") ||
				!strings.Contains(lines[0], "method="+tc.method+" path=/callback") || !strings.Contains(lines[0], "SameSite None") {
				t.Errorf("want one Warn naming the cross-site POST and the fix, got:\n%s", a.log)
			}
			a.login(b, "") // once per Manager
			if n := len(a.log.lines("level=WARN")); n != 1 {
				t.Errorf("%d Warn lines after a second failed login, want 1", n)
			}
		})
	}
}

// TestOIDCFormPostSameSiteNone makes form_post work. README's advice, a
// SameSite=None session, works with or without Partitioned (a top-level
// POST is first-party, in the site's own partition), and New refuses
// either without Secure. A second Manager with SameSite=None for the
// login alone keeps the user's session Lax: that session is not sent with
// the IdP's POST, so a callback that signs the user in there starts a new
// one and the cart is lost, while one that redirects to a GET first (which
// carries the Lax cookie) keeps it.
func TestOIDCFormPostSameSiteNone(t *testing.T) {
	none := cookiesession.Options{Name: "__Host-session", SameSite: http.SameSiteNoneMode}
	partitioned := none
	partitioned.Partitioned = true
	pendingOpts := &cookiesession.Options{Name: "__Host-login", SameSite: http.SameSiteNoneMode, MaxAge: 10 * time.Minute}
	for _, tc := range []struct {
		name        string
		cfg         rpConfig
		finishOnGet bool
		want        string
	}{
		{"session SameSite None", rpConfig{opts: none}, false, "cart=book"},
		{"session SameSite None, Partitioned", rpConfig{opts: partitioned}, false, "cart=book"},
		{"login cookie None, signed in at the callback", rpConfig{pendingOpts: pendingOpts}, false, "cart="},
		{"login cookie None, signed in at a GET", rpConfig{pendingOpts: pendingOpts}, true, "cart=book"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.mode, tc.cfg.bypass = "form_post", true
			tc.cfg.opts.Name = "__Host-session"
			a, b := newRP(t, tc.cfg, func(a *rp) { a.finishOnGet = tc.finishOnGet })
			b.navigate(a.self+"/", http.MethodPost, a.self+"/cart", url.Values{"item": {"book"}})
			anonymous := a.record(b, "__Host-session")
			resp, page := a.login(b, "")
			if want := `user=alice flashes=["Signed in as alice"] ` + tc.want; resp.StatusCode != http.StatusOK || page != want {
				t.Fatalf("after the login: %d %q, want %q", resp.StatusCode, page, want)
			}
			if a.record(b, "__Host-session").ID == anonymous.ID {
				t.Error("the signed-in session kept the anonymous one's id")
			}
			if lines := a.log.lines("level=WARN"); len(lines) > 0 {
				t.Errorf("logged:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
	for _, opts := range []cookiesession.Options{
		{SameSite: http.SameSiteNoneMode, DisableSecure: true},
		{SameSite: http.SameSiteNoneMode, Partitioned: true, DisableSecure: true},
	} {
		if _, err := cookiesession.New(ringOf(t, keyA), opts); err == nil || !strings.Contains(err.Error(), "DisableSecure") {
			t.Errorf("New(%+v): %v, want an error naming DisableSecure", opts, err)
		}
	}
}

// TestOIDCTwoTabsSignIn starts a login in two tabs before finishing
// either. Kept under one key, the second tab's login replaces the first's,
// whose callback then fails its state check; kept under a key per state,
// both finish.
func TestOIDCTwoTabsSignIn(t *testing.T) {
	for _, keyByState := range []bool{false, true} {
		t.Run(fmt.Sprint("key by state ", keyByState), func(t *testing.T) {
			a, b := newRP(t, rpConfig{mode: "query"}, func(a *rp) { a.keyByState = keyByState })
			url1, consent1 := a.startAt(b, "")
			url2, consent2 := a.startAt(b, "")
			resp1, page1 := a.consent(b, url1, consent1)
			resp2, page2 := a.consent(b, url2, consent2)
			if resp2.StatusCode != http.StatusOK || !strings.HasPrefix(page2, "user=alice") {
				t.Errorf("second tab: %d %q", resp2.StatusCode, page2)
			}
			firstOK := resp1.StatusCode == http.StatusOK && strings.HasPrefix(page1, "user=alice")
			if firstOK != keyByState {
				t.Errorf("first tab: %d %q; want it signed in: %v", resp1.StatusCode, page1, keyByState)
			}
		})
	}
}

// TestRememberMeAcrossLogins: Renew keeps the session's Lifetime, so a
// login that sets one only when "remember me" is ticked leaves an earlier
// login's 30 days on a session whose user did not tick it this time. Set it
// on both branches.
func TestRememberMeAcrossLogins(t *testing.T) {
	for _, forget := range []bool{true, false} {
		t.Run(fmt.Sprint("Lifetime set only if ticked ", forget), func(t *testing.T) {
			a, b := newRP(t, rpConfig{opts: cookiesession.Options{MaxLifetime: 30 * 24 * time.Hour}, mode: "query"},
				func(a *rp) { a.forgetRemember = forget })
			a.login(b, "remember=on")
			if got := a.record(b, "session").Lifetime.MaxAge; got != 30*24*time.Hour {
				t.Fatalf("remembered login: Lifetime.MaxAge %v", got)
			}
			a.clock.Advance(time.Hour)
			a.login(b, "") // again, on a shared computer, unticked
			got := a.record(b, "session").Lifetime
			if remembered := got.MaxAge == 30*24*time.Hour && !got.BrowserSession; remembered != forget {
				t.Errorf("unticked login: Lifetime %+v; still remembered: %v, want %v", got, remembered, forget)
			}
		})
	}
}

// TestStepUpReauthentication keeps the IdP's auth_time in the session: an
// account deletion ten minutes after the login asks to sign in again, a
// login with prompt=login records a fresh auth_time, and the deletion
// goes through.
func TestStepUpReauthentication(t *testing.T) {
	a, b := newRP(t, rpConfig{mode: "query"}, nil)
	a.login(b, "")
	a.clock.Advance(10 * time.Minute)
	resp, page := b.navigate(a.self+"/", http.MethodPost, a.self+"/account/delete", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("deletion 10 minutes after login: %d %q", resp.StatusCode, page)
	}
	before := a.record(b, "session")
	a.login(b, "prompt=login&return_to=/")
	after := a.record(b, "session")
	if got, _ := after.Values.Get("auth_time"); !got.(time.Time).Equal(a.clock.Now().Truncate(time.Second)) || after.ID == before.ID {
		t.Errorf("after step-up: auth_time %v (now %v), id renewed %v", got, a.clock.Now(), after.ID != before.ID)
	}
	if resp, page := b.navigate(a.self+"/", http.MethodPost, a.self+"/account/delete", url.Values{}); resp.StatusCode != http.StatusOK {
		t.Errorf("deletion after step-up: %d %q", resp.StatusCode, page)
	}
}

// TestLogoutEverywhere signs alice in on two devices and signs out
// everywhere from the first, at 12:00:10.300, by a revocation time checked
// in Validate. The other device is signed out. The first stays signed in,
// in a renewed session, when Validate compares the login time kept in the
// session; compared with CreatedAt, which is in whole seconds (12:00:10),
// the renewed session looks older than the revocation and is signed out too.
func TestLogoutEverywhere(t *testing.T) {
	for _, byCreatedAt := range []bool{false, true} {
		t.Run(fmt.Sprint("CreatedAt ", byCreatedAt), func(t *testing.T) {
			a, phone := newRP(t, rpConfig{mode: "query"}, func(a *rp) { a.revokeByCreatedAt = byCreatedAt })
			laptop := phone.another()
			a.login(phone, "")
			a.login(laptop, "")
			a.clock.Advance(10*time.Second + 300*time.Millisecond)
			phone.navigate(a.self+"/", http.MethodPost, a.self+"/logout-everywhere", url.Values{})
			if page := home(a, laptop); !strings.HasPrefix(page, "user= ") {
				t.Errorf("other device after logout everywhere: %q", page)
			}
			page := home(a, phone)
			if signedIn := strings.HasPrefix(page, "user=alice"); signedIn == byCreatedAt {
				t.Errorf("the device that signed out the others: %q; signed in %v, want %v", page, signedIn, !byCreatedAt)
			}
		})
	}
}

// TestRequestRacingLogout: a request that began before a logout and
// answers after it sends the session's cookie again, as the last writer:
// one that stored a value, and one that only read, when its idle window
// was due to slide. The logout is undone in the browser. Validate with the
// ids of ended sessions refuses that cookie at the next request and clears
// it; without it, the user is signed in again.
func TestRequestRacingLogout(t *testing.T) {
	for _, tc := range []struct {
		name        string
		readOnly    bool
		endOnLogout bool
	}{
		{"stores a value", false, false},
		{"refresh due", true, false},
		{"stores a value, ended ids in Validate", false, true},
		{"refresh due, ended ids in Validate", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newRP(t, rpConfig{opts: cookiesession.Options{IdleTimeout: 30 * time.Minute}, mode: "query"}, func(a *rp) {
				a.endOnLogout = tc.endOnLogout
				a.started, a.release = make(chan struct{}), make(chan struct{})
			})
			a.login(b, "")
			a.clock.Advance(20 * time.Minute)
			target := a.self + "/slow"
			if tc.readOnly {
				target += "?read"
			}
			slow := make(chan string)
			go func() {
				_, page := b.navigate(a.self+"/", http.MethodGet, target, nil)
				slow <- page
			}()
			<-a.started
			released := false
			t.Cleanup(func() {
				if !released { // a failure below: let the handler end, so that the server closes
					close(a.release)
				}
			})
			if _, page := b.navigate(a.self+"/", http.MethodPost, a.self+"/logout", url.Values{}); !strings.HasPrefix(page, `user= flashes=["Signed out"]`) {
				t.Fatalf("after logout: %q", page)
			}
			close(a.release)
			released = true
			if page := <-slow; page != "user=alice" {
				t.Fatalf("the slow request answered %q", page)
			}
			page := home(a, b)
			if signedIn := strings.HasPrefix(page, "user=alice"); signedIn == tc.endOnLogout {
				t.Errorf("after the slow answer: %q; signed in %v, want %v", page, signedIn, !tc.endOnLogout)
			}
		})
	}
}

// TestCrossOriginProtectionBesideTheSession: http.CrossOriginProtection
// in front refuses a cross-site POST to /logout (logout CSRF) and to /cart,
// before the session is read, and lets the site's own form through.
func TestCrossOriginProtectionBesideTheSession(t *testing.T) {
	a, b := newRP(t, rpConfig{mode: "query"}, nil)
	a.login(b, "")
	const evil = "https://evil.example.org/"
	for _, path := range []string{"/logout", "/cart"} {
		resp, page := b.navigate(evil, http.MethodPost, a.self+path, url.Values{"item": {"junk"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d %q", path, resp.StatusCode, page)
		}
	}
	if page := home(a, b); page != `user=alice flashes=[] cart=` {
		t.Errorf("after the cross-site POSTs: %q", page)
	}
	if _, page := b.navigate(a.self+"/", http.MethodPost, a.self+"/logout", url.Values{}); page != `user= flashes=["Signed out"] cart=` {
		t.Errorf("after the site's own logout: %q", page)
	}
}

// TestDenyHandlerUsesTheSession: http.CrossOriginProtection calls its deny
// handler where it sits. In front of the middleware, as in the quick start,
// a deny handler that uses the session finds none, and panics on the first
// request refused, a cross-site POST that a developer seldom sends: the
// panic names the fix, to put the protection inside the middleware. There
// the deny handler's flash reaches the browser with its redirect.
func TestDenyHandlerUsesTheSession(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	protect := func(h http.Handler) http.Handler {
		p := http.NewCrossOriginProtection()
		p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).AddFlash("That form came from another site")
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}))
		return p.Handler(h)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "flashes=%q", cookiesession.FromContext(r.Context()).Flashes())
	})
	crossSite := func(target string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, target, nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		return r
	}

	outside := protect(m.Handler(app))
	msg := panicOf(func() { outside.ServeHTTP(httptest.NewRecorder(), crossSite("https://example.com/logout")) })
	for _, want := range []string{"cookiesession: no session", "deny handler", "inside Manager.Handler"} {
		if !strings.Contains(msg, want) {
			t.Errorf("deny handler outside the middleware: panic %q, want it to name %q", msg, want)
		}
	}

	srv := newTLSServer(t, m.Handler(protect(app)))
	c := srv.client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || srv.jarValue(t, c, "session") == "" {
		t.Fatalf("deny handler inside the middleware: %d, jar %q", resp.StatusCode, srv.jarValue(t, c, "session"))
	}
	if _, page := fetch(t, c, srv.URL+"/"); page != `flashes=["That form came from another site"]` {
		t.Errorf("the page after the refusal: %q", page)
	}
	srv.checkNoSuperfluous(t)
}
