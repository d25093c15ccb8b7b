package cookiesession_test

// A model-based test of a session's life: seeded random sequences of real
// requests through Manager.Handler, clock moves, browser restarts and
// operator actions, each checked against a reference model written from
// README, doc.go, FORMAT.md and the design brief (not from the code).
// Some steps send several requests at once with one Cookie header, as a
// page's fetches go, and apply their responses in a random order.

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// The Manager every model run serves with.
const (
	modelMaxAge   = 2 * time.Hour
	modelIdle     = 30 * time.Minute
	modelCeiling  = 30 * day
	modelChunks   = 3
	modelBigSize  = 4000 // one big value takes 2 chunks, two take 3, three do not fit
	modelEpisodes = 200
	modelSteps    = 120
)

// TestModelSessionLife runs modelEpisodes seeded runs of modelSteps steps.
// COOKIESESSION_MODEL_STEPS runs that many steps in all instead, and
// COOKIESESSION_MODEL_SEED picks the first seed, for long runs by hand.
func TestModelSessionLife(t *testing.T) {
	episodes, first := modelEpisodes, uint64(1)
	if s := os.Getenv("COOKIESESSION_MODEL_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("COOKIESESSION_MODEL_STEPS=%q is not a positive number", s)
		}
		episodes = (n + modelSteps - 1) / modelSteps
	}
	if s := os.Getenv("COOKIESESSION_MODEL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COOKIESESSION_MODEL_SEED=%q is not a number", s)
		}
		first = n
	}
	clear(modelSeen)
	for seed := first; seed < first+uint64(episodes); seed++ {
		cfg := modelConfigFor(seed)
		steps := genSteps(rand.New(rand.NewPCG(seed, seed)), modelSteps)
		at, err := runModel(cfg, steps)
		if err == nil {
			continue
		}
		steps = shrinkSteps(cfg, steps[:at+1])
		at, err = runModel(cfg, steps)
		var trace strings.Builder
		for i, st := range steps {
			fmt.Fprintf(&trace, "\n  %2d %s", i, st)
		}
		t.Fatalf("seed %d (%+v): step %d diverges from the model: %v\nshrunk sequence:%s", seed, cfg, at, err, trace.String())
	}
	t.Logf("%d seeds of %d steps from seed %d; cases reached: %v", episodes, modelSteps, first, modelSeen)
}

// modelConfig is what a seed's Manager is given beyond the constants.
type modelConfig struct {
	BrowserSession   bool    // Options.BrowserSession
	RefreshThreshold float64 // Options.RefreshThreshold; 0: the default, 0.5
	Validate         bool    // Options.Validate refuses a session whose "a" is "z", panics on "n" 2
	Renames          bool    // operators may rename the cookie, retiring the old names
}

func modelConfigFor(seed uint64) modelConfig {
	return modelConfig{
		BrowserSession:   seed%2 == 0,
		RefreshThreshold: []float64{0, 0.25, 1}[seed/2%3],
		Validate:         seed/6%2 == 0,
		Renames:          seed/12%2 == 0,
	}
}

// ---- steps -----------------------------------------------------------

type stepKind int

const (
	stepRequest stepKind = iota
	stepClock
	stepRestart
	stepOperator
	stepParallel
)

type step struct {
	kind   stepKind
	client int
	ops    []modelOp        // stepRequest; none: the handler leaves its session untouched
	d      time.Duration    // stepClock; the new MaxLifetime, or how far away promote_at is
	deploy [2]time.Duration // stepOperator "deploy": the new MaxAge and IdleTimeout
	action string           // stepOperator: add, schedule, promote, remove, ceiling, deploy, rename
	name   string           // stepOperator "rename": the new Options.Name
	par    []parRequest     // stepParallel: the requests, served in this order
	order  []int            // stepParallel: the order their responses reach the browser
}

// parRequest is one of the requests a page sends at once, all with the
// Cookie header the browser held before any of them: ops as a stepRequest's,
// and an operator step that runs after it is served, before the next one
// is, if its action is not "": a stage of the key rotation, a lowered
// ceiling, or a deploy with other lifetimes (one instance of a rolling
// deployment answers before, the next after).
type parRequest struct {
	ops  []modelOp
	then step
}

type modelOp struct {
	kind string // set, setbig, del, clear, get, pop, popstring, flash, flashes, renew, destroy, touch, skip, life, save
	key  string
	val  any
	life cookiesession.Lifetime
}

func (s step) String() string {
	switch s.kind {
	case stepParallel:
		var b strings.Builder
		fmt.Fprintf(&b, "client %d: %d requests with one Cookie header:", s.client, len(s.par))
		for i, p := range s.par {
			fmt.Fprintf(&b, " [%d] %s", i, strings.TrimPrefix(step{client: s.client, ops: p.ops}.String(), fmt.Sprintf("client %d: ", s.client)))
			if p.then.action != "" {
				b.WriteString(", then " + p.then.String())
			}
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " responses applied in the order %v", s.order)
		return b.String()
	case stepClock:
		return "clock +" + s.d.String()
	case stepRestart:
		return fmt.Sprintf("client %d: browser restart", s.client)
	case stepOperator:
		switch s.action {
		case "ceiling":
			return "operator: SetMaxLifetime(" + s.d.String() + ")"
		case "schedule":
			return "operator: add key, promote_at in " + s.d.String()
		case "deploy":
			return fmt.Sprintf("operator: deploy with MaxAge %v, IdleTimeout %v", s.deploy[0], s.deploy[1])
		case "rename":
			return "operator: deploy with Name " + s.name + ", the other names in Retired"
		}
		return "operator: " + s.action + " key"
	}
	if len(s.ops) == 0 {
		return fmt.Sprintf("client %d: request, session untouched", s.client)
	}
	var ops []string
	for _, o := range s.ops {
		switch o.kind {
		case "set", "del", "get", "setbig", "pop", "popstring", "flash":
			v := fmt.Sprint(o.val)
			if len(v) > 8 {
				v = v[:1] + "×" + strconv.Itoa(len(v))
			}
			ops = append(ops, fmt.Sprintf("%s(%s=%s)", o.kind, o.key, v))
		case "life":
			ops = append(ops, fmt.Sprintf("SetLifetime(%+v)", o.life))
		default:
			ops = append(ops, o.kind)
		}
	}
	return fmt.Sprintf("client %d: request %s", s.client, strings.Join(ops, ", "))
}

var modelLifetimes = []cookiesession.Lifetime{
	{MaxAge: 7 * day, IdleTimeout: day},
	{MaxAge: 7 * day},
	{MaxAge: 40 * day, IdleTimeout: day}, // over the initial ceiling: cut to it
	{MaxAge: time.Hour},                  // refused once the session is an hour old
	{IdleTimeout: 3 * time.Hour},         // refused: longer than Options.MaxAge
	{BrowserSession: true},
	{}, // persistent with the defaults, under Options.BrowserSession
}

// modelDeploys are the MaxAge and IdleTimeout a deploy may change to.
var modelDeploys = [][2]time.Duration{{2 * time.Hour, 30 * time.Minute}, {time.Hour, 10 * time.Minute}, {2 * time.Hour, 10 * time.Minute}}

var modelCeilings = []time.Duration{7 * day, day, 6 * time.Hour, 3 * time.Hour, 2 * time.Hour}

// modelNames are the cookie names a deploy may rename the session's
// cookie to; the Manager lists the other two in Options.Retired.
var modelNames = []string{"session", "sid", "ssn"}

func genSteps(rng *rand.Rand, n int) []step {
	steps := make([]step, n)
	for i := range steps {
		switch p := rng.IntN(100); {
		case p < 52:
			steps[i] = step{kind: stepRequest, client: rng.IntN(10) / 7, ops: genOps(rng)}
		case p < 60:
			steps[i] = genParallel(rng)
		case p < 85:
			steps[i] = step{kind: stepClock, d: genClock(rng)}
		case p < 90:
			steps[i] = step{kind: stepRestart, client: rng.IntN(2)}
		default:
			st := step{kind: stepOperator, action: []string{"add", "schedule", "promote", "remove", "ceiling", "deploy", "rename"}[rng.IntN(7)]}
			st.d = modelCeilings[rng.IntN(len(modelCeilings))]
			switch st.action {
			case "rename":
				st.name = modelNames[rng.IntN(len(modelNames))]
			case "schedule":
				st.d = time.Duration(1+rng.IntN(20)) * time.Minute
			case "deploy":
				st.deploy = modelDeploys[rng.IntN(len(modelDeploys))]
			}
			steps[i] = st
		}
	}
	return steps
}

// genParallel makes 2 to 4 requests that a page sends at once, each an
// action the model knows, and the order their responses land in.
func genParallel(rng *rand.Rand) step {
	st := step{kind: stepParallel, client: rng.IntN(10) / 7, par: make([]parRequest, 2+rng.IntN(3))}
	for i := range st.par {
		st.par[i].ops = genParOps(rng)
		if i < len(st.par)-1 && rng.IntN(5) == 0 {
			// Mostly a stage of the key rotation; not a rename: the
			// model's view of each response is under one Name.
			then := step{kind: stepOperator, action: []string{"add", "schedule", "promote", "remove", "add", "promote", "ceiling", "deploy"}[rng.IntN(8)]}
			then.d = time.Duration(1+rng.IntN(20)) * time.Minute
			switch then.action {
			case "ceiling":
				then.d = modelCeilings[rng.IntN(len(modelCeilings))]
			case "deploy":
				then.deploy = modelDeploys[rng.IntN(len(modelDeploys))]
			}
			st.par[i].then = then
		}
	}
	st.order = rng.Perm(len(st.par))
	return st
}

// genParOps picks what one of the parallel requests does: mostly one of
// the actions that change how many cookies the session takes, or end it.
func genParOps(rng *rand.Rand) []modelOp {
	big := func() modelOp {
		return modelOp{kind: "setbig", key: []string{"big1", "big2", "big3"}[rng.IntN(3)], val: strings.Repeat(string(rune('p'+rng.IntN(3))), modelBigSize)}
	}
	switch rng.IntN(12) {
	case 0:
		return nil // a request whose handler leaves the session untouched
	case 1:
		return []modelOp{{kind: "get", key: []string{"a", "b", "n"}[rng.IntN(3)]}}
	case 2:
		return []modelOp{{kind: "set", key: []string{"a", "b"}[rng.IntN(2)], val: []string{"x", "y", "z"}[rng.IntN(3)]}}
	case 3:
		return []modelOp{big()} // two chunks, or three beside another big value
	case 4:
		return []modelOp{big(), big()}
	case 5: // back to one chunk
		return []modelOp{{kind: "del", key: "big1"}, {kind: "del", key: "big2"}, {kind: "del", key: "big3"}}
	case 6:
		return []modelOp{{kind: "destroy"}}
	case 7: // a logout that leaves a "signed out" flash: a new session
		return []modelOp{{kind: "destroy"}, {kind: "flash", key: "a", val: "m" + strconv.Itoa(rng.IntN(10))}}
	case 8:
		return []modelOp{{kind: "renew"}}
	case 9:
		return []modelOp{{kind: "skip"}, {kind: "get", key: "a"}}
	}
	return genOps(rng)
}

func genClock(rng *rand.Rand) time.Duration {
	switch rng.IntN(9) {
	case 8:
		return 500 * time.Millisecond // tokens carry whole seconds
	case 0:
		return 16*time.Minute + time.Duration(rng.IntN(600))*time.Second // into the refresh half
	case 1:
		return modelIdle + time.Second // past the idle timeout
	case 2:
		return modelMaxAge // past the absolute lifetime
	case 3:
		return []time.Duration{day, 8 * day, 31 * day}[rng.IntN(3)]
	}
	return time.Duration(1+rng.IntN(600)) * time.Second
}

func genOps(rng *rand.Rand) []modelOp {
	if rng.IntN(10) == 0 {
		return nil
	}
	ops := make([]modelOp, 1+rng.IntN(3))
	skip := false
	for i := range ops {
		o := modelOp{key: []string{"a", "b", "n"}[rng.IntN(3)]}
		switch p := rng.IntN(100); {
		case p < 30:
			o.kind, o.val = "set", []string{"x", "y", "z"}[rng.IntN(3)]
			if o.key == "n" {
				o.val = rng.IntN(3)
			}
			if rng.IntN(20) == 0 {
				o.key = "_flash" // AddFlash replaces it, Flashes leaves it
			}
		case p < 37:
			o.kind, o.key = "setbig", []string{"big1", "big2", "big3"}[rng.IntN(3)]
			o.val = strings.Repeat(string(rune('p'+rng.IntN(3))), modelBigSize)
		case p < 47:
			o.kind = "del"
			if rng.IntN(3) == 0 {
				o.key = []string{"big1", "big2", "big3"}[rng.IntN(3)]
			}
		case p < 50:
			o.kind = "clear"
		case p < 54:
			o.kind = "get"
		case p < 56:
			o.kind = []string{"pop", "popstring"}[rng.IntN(2)]
		case p < 59:
			o.kind, o.val = "flash", "m"+strconv.Itoa(rng.IntN(10))
		case p < 62:
			o.kind = "flashes"
		case p < 69:
			o.kind = "renew"
		case p < 73:
			o.kind = "destroy"
		case p < 78:
			o.kind = "touch"
		case p < 85:
			o.kind, skip = "skip", true
		case p < 94:
			o.kind, o.life = "life", modelLifetimes[rng.IntN(len(modelLifetimes))]
		default:
			o.kind = "save"
		}
		ops[i] = o
	}
	if skip {
		// SkipRefresh after a Save is too late for what Save wrote, and
		// logged (TestSkipRefreshAfterSave): it comes first.
		slices.SortStableFunc(ops, func(a, b modelOp) int { return boolInt(b.kind == "skip") - boolInt(a.kind == "skip") })
	}
	return ops
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shrinkSteps drops steps, then operations within requests, one at a
// time while the run still diverges.
func shrinkSteps(cfg modelConfig, steps []step) []step {
	for i := len(steps) - 1; i >= 0; i-- {
		try := slices.Delete(slices.Clone(steps), i, i+1)
		if at, err := runModel(cfg, try); err != nil {
			steps = try[:at+1]
			i = min(i, len(steps))
		}
	}
	for i := range steps {
		for j := len(steps[i].ops) - 1; j >= 0; j-- {
			try := slices.Clone(steps)
			try[i].ops = slices.Delete(slices.Clone(steps[i].ops), j, j+1)
			if _, err := runModel(cfg, try); err != nil {
				steps = try
			}
		}
		steps = shrinkParallel(cfg, steps, i)
	}
	return steps
}

// shrinkParallel drops requests of the parallel step i, then their
// operator stages and operations, one at a time while the run still
// diverges.
func shrinkParallel(cfg modelConfig, steps []step, i int) []step {
	try := func(change func(st *step)) {
		next := slices.Clone(steps)
		next[i].par = slices.Clone(steps[i].par)
		change(&next[i])
		if _, err := runModel(cfg, next); err != nil {
			steps = next
		}
	}
	for j := len(steps[i].par) - 1; j >= 0 && len(steps[i].par) > 1; j-- {
		try(func(st *step) {
			st.par = slices.Delete(st.par, j, j+1)
			st.order = slices.Collect(func(yield func(int) bool) {
				for _, k := range st.order {
					if k != j && !yield(k-boolInt(k > j)) {
						return
					}
				}
			})
		})
	}
	for j := range steps[i].par {
		if steps[i].par[j].then.action != "" {
			try(func(st *step) { st.par[j].then = step{} })
		}
		for k := len(steps[i].par[j].ops) - 1; k >= 0; k-- {
			try(func(st *step) { st.par[j].ops = slices.Delete(slices.Clone(st.par[j].ops), k, k+1) })
		}
	}
	return steps
}

// ---- the browser -----------------------------------------------------

// modelJar is one origin's cookie store as a browser keeps it, on the fake
// clock. Its cookies go out in the order they were first stored.
type modelJar struct {
	clock   *fakeClock
	cookies map[string]*jarCookie
	seq     int
}

type jarCookie struct {
	value   string
	expires time.Time // zero: a browser-session cookie
	seq     int
}

func (j *modelJar) receive(h http.Header) error {
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			return fmt.Errorf("Set-Cookie %q: %v", line, err)
		}
		now := j.clock.Now()
		var expires time.Time
		switch {
		case c.MaxAge < 0:
			delete(j.cookies, c.Name)
			continue
		case c.MaxAge > 0:
			expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		case !c.Expires.IsZero():
			if !c.Expires.After(now) {
				delete(j.cookies, c.Name)
				continue
			}
			expires = c.Expires
		}
		if old, ok := j.cookies[c.Name]; ok {
			old.value, old.expires = c.Value, expires
			continue
		}
		j.seq++
		j.cookies[c.Name] = &jarCookie{value: c.Value, expires: expires, seq: j.seq}
	}
	return nil
}

func (j *modelJar) expire() {
	now := j.clock.Now()
	for name, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(now) {
			delete(j.cookies, name)
		}
	}
}

func (j *modelJar) restart() {
	for name, c := range j.cookies {
		if c.expires.IsZero() {
			delete(j.cookies, name)
		}
	}
}

// names lists the cookies the browser holds, each with the start of its
// value, for a message.
func (j *modelJar) names() []string {
	var out []string
	for _, pair := range strings.Split(j.header(), "; ") {
		if len(pair) > 24 {
			pair = pair[:24] + "…"
		}
		out = append(out, pair)
	}
	return out
}

// header is the request's one Cookie line.
func (j *modelJar) header() string {
	j.expire()
	names := make([]string, 0, len(j.cookies))
	for name := range j.cookies {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return j.cookies[a].seq - j.cookies[b].seq })
	pairs := make([]string, len(names))
	for i, name := range names {
		pairs[i] = name + "=" + j.cookies[name].value
	}
	return strings.Join(pairs, "; ")
}

// ---- the model -------------------------------------------------------

// modelToken is what the model says a client's cookie holds.
type modelToken struct {
	values     map[string]any
	id         string
	created    time.Time
	deadline   time.Time // the token's own expires
	life       cookiesession.Lifetime
	lifeCut    bool // set over the ceiling: what Lifetime() returns is not pinned down
	key        uint32
	jarExpires time.Time // zero: a browser-session cookie
}

type modelClient struct {
	jar     *modelJar
	tok     *modelToken            // under the Manager's Name
	retired map[string]*modelToken // under a name it has retired
	// Chunk cookies the browser holds beside those of the token of their
	// base name, or beside none, by cookie name. Parallel responses leave
	// them: one with fewer chunks that lands after another's, a clear
	// that lands after a larger write. A stale chunk 0 is the first piece
	// of a token whose other chunks are gone.
	stale map[string]staleChunk
}

type staleChunk struct {
	expires time.Time // zero: when the browser closes
	key     uint32    // of the token it was cut from
}

func (r *modelRun) count(cond bool, what string) {
	if cond {
		r.seen[what]++
	}
}

// forget drops the tokens whose cookie's Max-Age has run out, or, if the
// browser closed, those of browser-session cookies.
func (c *modelClient) forget(now time.Time, closed bool) {
	gone := func(t *modelToken) bool {
		if t.jarExpires.IsZero() {
			return closed
		}
		return !t.jarExpires.After(now)
	}
	if c.tok != nil && gone(c.tok) {
		c.tok = nil
	}
	maps.DeleteFunc(c.retired, func(_ string, t *modelToken) bool { return gone(t) })
	maps.DeleteFunc(c.stale, func(_ string, sc staleChunk) bool {
		return gone(&modelToken{jarExpires: sc.expires})
	})
}

// staleOf returns the indices of the stale chunks of base the browser
// holds.
func (c *modelClient) staleOf(base string) []int {
	var out []int
	for name := range c.stale {
		if i := chunkIndexOf(name, base); i >= 0 {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// chunkIndexOf returns i if cookie is chunk i of base, else -1.
func chunkIndexOf(cookie, base string) int {
	if cookie == base {
		return 0
	}
	if n, ok := strings.CutPrefix(cookie, base+"."); ok {
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			return i
		}
	}
	return -1
}

// chunksOf is how many cookies a token takes: one, and one more for each
// big value (modelBigSize).
func chunksOf(tok *modelToken) int {
	if tok == nil {
		return 0
	}
	n := 1
	for k := range tok.values {
		if strings.HasPrefix(k, "big") {
			n++
		}
	}
	return n
}

// rename moves the client's tokens as a deploy renames the cookie: the
// current one is now under a retired name, and one under the new name, if
// the browser still holds it, is the session's cookie again.
func (c *modelClient) rename(from, to string) {
	if c.tok != nil {
		c.retired[from] = c.tok
	}
	c.tok = c.retired[to]
	delete(c.retired, to)
}

type modelRun struct {
	clock   *fakeClock
	ring    *cookiesession.KeyRing
	m       *cookiesession.Manager
	reader  *cookiesession.Manager // m's Options without Validate, for probe
	ceiling time.Duration
	inRing  map[uint32]bool
	primary uint32
	pending uint32    // added, not promoted
	due     time.Time // pending's promote_at, if scheduled
	old     []uint32  // former primaries, still in the ring
	nextKey uint32
	clients [2]*modelClient
	seenIDs map[string]bool
	seen    map[string]int // how often each case came up, for the log

	cfg          modelConfig
	maxAge, idle time.Duration // Options.MaxAge and IdleTimeout
	name         string        // Options.Name; Retired lists the other modelNames

	// Options.Validate: the values it must be given, or nil for none
	// (no valid cookie, or a handler that does not use its session); how
	// often it ran in this request, and what it saw amiss.
	validating  map[string]any
	validated   int
	validateErr error
	// Whether this Manager has logged a change Validate made to its copy,
	// and the log of the request.
	validateWarned bool
	log            strings.Builder
}

// modelSeen counts the cases the runs reached, so that a generator that
// stops reaching one shows in the log.
var modelSeen = map[string]int{}

func runModel(cfg modelConfig, steps []step) (int, error) {
	r := &modelRun{clock: newFakeClock(fixedNow), ceiling: modelCeiling, cfg: cfg, seenIDs: map[string]bool{}, seen: modelSeen}
	r.maxAge, r.idle, r.name = modelMaxAge, modelIdle, modelNames[0]
	r.primary, r.nextKey = 0x5e000001, 0x5e000002
	r.inRing = map[uint32]bool{r.primary: true}
	key, err := cookiesession.NewKey(r.primary, keySecret(r.primary))
	if err != nil {
		return 0, err
	}
	if r.ring, err = cookiesession.NewKeyRing(key); err != nil {
		return 0, err
	}
	r.ring.SetClock(r.clock.Now)
	if err := r.restart(); err != nil {
		return 0, err
	}
	for i := range r.clients {
		r.clients[i] = &modelClient{jar: &modelJar{clock: r.clock, cookies: map[string]*jarCookie{}}, retired: map[string]*modelToken{}, stale: map[string]staleChunk{}}
	}
	for i, st := range steps {
		if err := r.step(st); err != nil {
			return i, err
		}
		for n, c := range r.clients {
			if err := r.checkJar(c); err != nil {
				return i, fmt.Errorf("client %d after the step: %v", n, err)
			}
		}
	}
	return len(steps) - 1, nil
}

func (r *modelRun) step(st step) error {
	switch st.kind {
	case stepClock:
		r.clock.Advance(st.d)
	case stepRestart:
		c := r.clients[st.client]
		c.jar.restart()
		c.forget(r.clock.Now(), true)
	case stepOperator:
		return r.operate(st)
	case stepParallel:
		return r.parallel(r.clients[st.client], st)
	default:
		return r.request(r.clients[st.client], st.ops)
	}
	return nil
}

// operate runs the README's rotation runbook one stage at a time (a stage
// whose turn has not come is skipped), or lowers the ceiling.
func (r *modelRun) operate(st step) error {
	r.promoteDue()
	switch {
	case (st.action == "add" || st.action == "schedule") && r.pending == 0:
		r.pending, r.nextKey = r.nextKey, r.nextKey+1
		r.inRing[r.pending] = true
		key, err := cookiesession.NewKey(r.pending, keySecret(r.pending))
		if err != nil {
			return err
		}
		if st.action == "schedule" {
			r.due = r.clock.Now().Add(st.d)
			return r.ring.AddScheduled(key, r.due)
		}
		return r.ring.Add(key)
	case st.action == "promote" && r.pending != 0 && r.due.IsZero():
		r.old, r.primary, r.pending = append(r.old, r.primary), r.pending, 0
		return r.ring.Promote(r.primary)
	case st.action == "remove" && len(r.old) > 0:
		id := r.old[0]
		r.old = r.old[1:]
		delete(r.inRing, id)
		return r.ring.Remove(id)
	case st.action == "deploy":
		r.maxAge, r.idle = st.deploy[0], st.deploy[1]
		return r.restart()
	case st.action == "rename" && r.cfg.Renames && st.name != r.name:
		for _, c := range r.clients {
			r.count(c.retired[st.name] != nil, "renamed back to a cookie the browser holds")
			c.rename(r.name, st.name)
		}
		r.name = st.name
		return r.restart()
	case st.action == "ceiling" && st.d < r.ceiling:
		r.ceiling = st.d
		if err := r.reader.SetMaxLifetime(st.d); err != nil {
			return err
		}
		return r.m.SetMaxLifetime(st.d)
	}
	return nil
}

// persistent says whether a session's cookie carries Max-Age: its own
// Lifetime decides, if it has one, else Options.BrowserSession.
func (r *modelRun) persistent(l cookiesession.Lifetime) bool {
	if l == (cookiesession.Lifetime{}) {
		return !r.cfg.BrowserSession
	}
	return !l.BrowserSession
}

// restart builds the Manager anew, as a deploy with changed Options does,
// on the same ring and the current ceiling.
func (r *modelRun) restart() (err error) {
	var retired []cookiesession.RetiredCookie
	if r.cfg.Renames {
		for _, name := range r.retiredNames() {
			// MaxChunks as the session's: an entry's default is 1.
			retired = append(retired, cookiesession.RetiredCookie{Name: name, MaxChunks: modelChunks})
		}
	}
	opts := cookiesession.Options{
		Name: r.name, Retired: retired, MaxAge: r.maxAge, IdleTimeout: r.idle, MaxLifetime: r.ceiling, MaxChunks: modelChunks, BrowserSession: r.cfg.BrowserSession, RefreshThreshold: r.cfg.RefreshThreshold,
		Now: r.clock.Now, Logger: slog.New(slog.DiscardHandler),
	}
	if r.reader, err = cookiesession.New(r.ring, opts); err != nil {
		return err
	}
	opts.Logger, opts.Validate = slog.New(slog.NewTextHandler(&r.log, nil)), r.validator()
	r.m, err = cookiesession.New(r.ring, opts)
	r.validateWarned = false
	return err
}

func (r *modelRun) retiredNames() []string {
	return slices.DeleteFunc(slices.Clone(modelNames), func(n string) bool { return n == r.name })
}

// validator panics on a session whose "n" is 2, and revokes one whose "a"
// is "z", after a change to the copy it is given, which the handler must
// not see: what it changes depends on "b" (validateLogged says which change
// is logged).
func (r *modelRun) validator() func(*http.Request, *cookiesession.Session) error {
	if !r.cfg.Validate {
		return nil
	}
	return func(req *http.Request, s *cookiesession.Session) error {
		r.validated++
		if cookiesession.FromContext(req.Context()) != s {
			r.validateErr = errors.New("in Validate, FromContext does not return the copy Validate was given")
		}
		if loaded, err := r.m.Load(req); loaded != s || err != nil {
			r.validateErr = fmt.Errorf("in Validate, Load = %p, %v; want the copy %p", loaded, err, s)
		}
		if got := sessionValues(s); r.validating == nil || !cmp.Equal(got, r.validating) {
			r.validateErr = fmt.Errorf("Validate was given %v, want %v (nil: not to run)", got, r.validating)
		}
		if s.GetInt("n") == 2 {
			panic("the user record cannot be read")
		}
		revoked := s.GetString("a") == "z"
		var err error
		switch s.GetString("b") {
		case "x":
			s.Flashes()
		case "y":
			s.Destroy()
		case "z":
			s.Renew()
			err = s.SetLifetime(cookiesession.Lifetime{MaxAge: 5 * day, IdleTimeout: 2 * time.Hour}) // no step sets this one
		default:
			s.AddFlash("from Validate")
			err = s.Set("n", 7)
		}
		if err != nil {
			r.validateErr = fmt.Errorf("a change in Validate: %v", err)
		}
		if revoked {
			return errors.New("revoked")
		}
		return nil
	}
}

// promoteDue promotes the pending key once its promote_at has come.
func (r *modelRun) promoteDue() {
	if r.pending != 0 && !r.due.IsZero() && !r.clock.Now().Before(r.due) {
		r.old, r.primary, r.pending, r.due = append(r.old, r.primary), r.pending, 0, time.Time{}
		r.seen["scheduled promotion"]++
	}
}

// limits are a session's absolute lifetime and idle timeout under the
// current ceiling: a Lifetime's own, or else the Options'.
func (r *modelRun) limits(l cookiesession.Lifetime) (maxAge, idle time.Duration) {
	maxAge, idle = r.maxAge, r.idle
	if l.MaxAge > 0 {
		maxAge = l.MaxAge
	}
	if l.IdleTimeout > 0 {
		idle = l.IdleTimeout
	}
	return min(maxAge, r.ceiling), min(idle, r.ceiling)
}

// reqState is the model's view of the session during one request.
type reqState struct {
	loaded, refused, unknownKey                         bool
	panics                                              bool // Validate panics at the first use
	values                                              map[string]any
	created                                             time.Time
	deadline                                            time.Time // the cookie's, cut by a lowered ceiling
	life                                                cookiesession.Lifetime
	lifeCut                                             bool
	id                                                  string // "" once Renew or Destroy drew a new one
	changed, renewed, destroyed, touched, skip, lifeSet bool
	lifeKept                                            bool        // SetLifetime gave a Lifetime, or a token with no values carried one, since the last Clear or Destroy: a session with no values is written to carry it
	stored                                              bool        // a value, or a Lifetime a session with no values keeps, was stored at some point
	dropped                                             bool        // a Delete or Clear found nothing in a session whose cookie is under a key id the ring lacks
	wrote                                               *modelToken // what the response wrote
}

func (r *modelRun) load(c *modelClient) reqState {
	now := r.clock.Now()
	st := reqState{values: map[string]any{}, created: now.Truncate(time.Second)}
	tok := c.tok
	if tok == nil {
		// Chunks without the first, which a logout that landed after a
		// larger write left, open nowhere and stay (FORMAT.md section
		// 5): a clear would reach only a session a parallel response
		// set. The first piece of a token without the rest is invalid
		// (steps 3 to 5) and cleared, unless it names a key id this
		// instance lacks.
		piece, hasPiece := c.stale[r.name]
		st.unknownKey = hasPiece && !r.inRing[piece.key]
		st.refused = hasPiece && !st.unknownKey
		r.count(!hasPiece && len(c.staleOf(r.name)) > 0, "stale chunks without the first kept")
		r.count(hasPiece, "the first piece of a token without the rest sent")
		return st
	}
	maxAge, _ := r.limits(tok.life)
	switch {
	case !r.inRing[tok.key]:
		st.unknownKey = true
		r.seen["cookie under a removed key"]++
	case !now.Before(tok.deadline) || !now.Before(tok.created.Add(maxAge)):
		st.refused = true
		r.seen["expired cookie sent"]++
	case r.cfg.Validate && tok.values["n"] == 2:
		r.validating = tok.values
		st.panics = true
		r.seen["Validate panics"]++
	case r.cfg.Validate && tok.values["a"] == "z":
		r.validating = tok.values
		st.refused = true
		r.seen["refused by Validate"]++
	default:
		r.validating = tok.values
		r.seen["session loaded"]++
		st.loaded = true
		for k, v := range tok.values {
			st.values[k] = v
		}
		st.created, st.life, st.lifeCut, st.id = tok.created, tok.life, tok.lifeCut, tok.id
		st.lifeKept = len(tok.values) == 0 && tok.life != cookiesession.Lifetime{}
		st.deadline = earliest(tok.deadline, tok.created.Add(maxAge))
	}
	return st
}

func (r *modelRun) request(c *modelClient, ops []modelOp) error {
	c.jar.expire()
	c.forget(r.clock.Now(), false)
	eff, h, err := r.serve(c, c.jar.header(), ops)
	if err != nil {
		return err
	}
	r.land(c, eff)
	return c.jar.receive(h)
}

// parallel serves the requests a page sends at once, each with the Cookie
// header the browser held before any of them, the operator stages between
// them as they come, and then applies their responses in the step's
// order: each response's lines in order, one response after another, as
// a browser does. The model's answer follows from the lines each response
// must carry (FORMAT.md section 5): the last one to land that writes the
// session's cookie decides what the browser holds, chunks another left
// above its own are read past, and a later request sees the session of
// that response (the last writer wins), or none after a clear.
func (r *modelRun) parallel(c *modelClient, st step) error {
	c.jar.expire()
	c.forget(r.clock.Now(), false)
	header := c.jar.header()
	effects := make([]modelEffect, len(st.par))
	headers := make([]http.Header, len(st.par))
	for i, p := range st.par {
		var err error
		if effects[i], headers[i], err = r.serve(c, header, p.ops); err != nil {
			return fmt.Errorf("request [%d]: %v", i, err)
		}
		if p.then.action != "" {
			r.count(true, "parallel: operator step between")
			if err := r.operate(p.then); err != nil {
				return err
			}
		}
	}
	r.seen["parallel requests"]++
	writers := 0
	for _, e := range effects {
		writers += boolInt(e.tok != nil)
	}
	r.count(writers > 1, "parallel: two sessions written, the last lands")
	for n, i := range st.order {
		r.count(n > 0 && effects[i].tok != nil && chunksOf(effects[i].tok) < chunksOf(c.tok), "parallel: fewer chunks land last")
		r.count(n > 0 && effects[i].clear && c.tok != nil && c.tok != effects[i].prev, "parallel: a clear lands on another's session")
		r.land(c, effects[i])
		if err := c.jar.receive(headers[i]); err != nil {
			return err
		}
	}
	r.count(c.tok != nil && len(c.staleOf(r.name)) > 0, "parallel: a token of one cookie beside stale chunks")
	r.count(c.tok == nil && len(c.staleOf(r.name)) > 0, "parallel: stale chunks beside no token")
	if stale := c.staleOf(r.name); len(stale) > 0 {
		r.count(stale[len(stale)-1]+1 > len(stale)+chunksOf(c.tok), "parallel: a chunk missing below a stale one")
	}
	return r.probe(c)
}

// probe reads the browser's cookies now with Load on a Manager of the
// same Options but no Validate, and checks the session against what the
// model says the browser holds: the token that landed last, if it is
// still good, and otherwise none. It writes nothing.
func (r *modelRun) probe(c *modelClient) error {
	c.jar.expire()
	req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	if line := c.jar.header(); line != "" {
		req.Header.Set("Cookie", line)
	}
	s, err := r.reader.Load(req)
	tok, now := c.tok, r.clock.Now()
	if tok != nil {
		maxAge, _ := r.limits(tok.life)
		if !r.inRing[tok.key] || !now.Before(tok.deadline) || !now.Before(tok.created.Add(maxAge)) {
			tok = nil
		}
	}
	switch {
	case tok == nil && !s.IsNew():
		return fmt.Errorf("after the parallel responses, the browser holds %q, which opens as session %s; want none", c.jar.names(), s.ID())
	case tok == nil:
		return nil
	case s.IsNew() || err != nil:
		return fmt.Errorf("after the parallel responses, the browser holds %q, which gives a new session (%v); want session %s, which the last response wrote", c.jar.names(), err, tok.id)
	case s.ID() != tok.id:
		return fmt.Errorf("after the parallel responses, the browser's cookies open as session %s, want %s", s.ID(), tok.id)
	}
	if got := sessionValues(s); !cmp.Equal(got, tok.values) {
		return fmt.Errorf("after the parallel responses, the session holds (-want +got):\n%s", cmp.Diff(tok.values, got))
	}
	return nil
}

// modelEffect is what one response does to the browser's cookies of the
// session's name and the retired ones.
type modelEffect struct {
	tok     *modelToken  // written, in chunkOf(tok) cookies
	clear   bool         // chunks expired, none written
	expired map[int]bool // the chunks the response expires
	retired bool         // the retired cookies expired
	prev    *modelToken  // the token the request carried
}

// land applies a response's effect to what the model says the browser
// holds: the chunks a write or a clear does not reach stay, stale.
func (r *modelRun) land(c *modelClient, e modelEffect) {
	if e.retired {
		clear(c.retired)
		maps.DeleteFunc(c.stale, func(name string, _ staleChunk) bool { return chunkIndexOf(name, r.name) < 0 })
	}
	if e.tok == nil && !e.clear {
		return
	}
	for i := range e.expired {
		delete(c.stale, modelChunkName(r.name, i))
	}
	if e.tok == nil && !slices.ContainsFunc(slices.Collect(maps.Keys(e.expired)), func(i int) bool { return i < chunksOf(c.tok) }) {
		return // the clear reached stale chunks only: the token stands
	}
	for i := chunksOf(e.tok); i < chunksOf(c.tok); i++ {
		c.stale[modelChunkName(r.name, i)] = staleChunk{c.tok.jarExpires, c.tok.key}
	}
	for i := range chunksOf(e.tok) {
		delete(c.stale, modelChunkName(r.name, i))
	}
	for i := range e.expired {
		delete(c.stale, modelChunkName(r.name, i))
	}
	c.tok = e.tok
}

// serve sends one request with the given Cookie header, checks what the
// handler sees and what the response carries, and returns the response's
// effect on the browser's cookies and its header, for the caller to apply.
func (r *modelRun) serve(c *modelClient, header string, ops []modelOp) (modelEffect, http.Header, error) {
	r.promoteDue()
	r.validating, r.validated, r.validateErr = nil, 0, nil
	r.log.Reset()
	st := r.load(c)
	var herr error
	h := func(w http.ResponseWriter, req *http.Request) {
		if len(ops) == 0 {
			return
		}
		var s *cookiesession.Session
		if st.panics {
			// The panic unwinds as the handler's would, and leaves the
			// session new and empty for a recovery that still uses it.
			if p := catchPanic(func() { s = cookiesession.FromContext(req.Context()); s.IsNew() }); p == nil {
				herr = errors.New("Validate panicked, and the first use of the session did not")
				return
			}
		}
		s = cookiesession.FromContext(req.Context())
		if herr = r.observe(s, c, &st); herr != nil {
			return
		}
		for _, o := range ops {
			if herr = r.apply(w, req, s, &st, o); herr != nil {
				return
			}
		}
		herr = r.finalID(s, &st)
	}
	req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	if header != "" {
		req.Header.Set("Cookie", header)
	}
	rec := httptest.NewRecorder()
	r.m.Handler(http.HandlerFunc(h)).ServeHTTP(rec, req)
	if herr != nil {
		return modelEffect{}, nil, herr
	}
	if err := r.checkValidate(len(ops) > 0, &st); err != nil {
		return modelEffect{}, nil, err
	}
	resp := rec.Result()
	eff, err := r.checkResponse(resp, c, &st, len(ops) > 0)
	return eff, resp.Header, err
}

// checkValidate checks that Options.Validate ran once on a session opened
// from a valid cookie, at its first use, and on no other, and that the
// first change it made to its copy that the docs say is logged was logged
// at Warn, once per Manager.
func (r *modelRun) checkValidate(used bool, st *reqState) error {
	if !r.cfg.Validate {
		return nil
	}
	want := 0
	if used && r.validating != nil {
		want = 1
	}
	if r.validated != want {
		return fmt.Errorf("Validate ran %d times, want %d", r.validated, want)
	}
	if r.validateErr != nil {
		return r.validateErr
	}
	warn := want == 1 && !st.panics && !r.validateWarned && validateLogged(r.validating, st.refused)
	if got := strings.Count(r.log.String(), "Validate changed"); got != boolInt(warn) {
		return fmt.Errorf("%d Warn lines about Validate's change, want %d:\n%s", got, boolInt(warn), r.log.String())
	}
	r.validateWarned = r.validateWarned || warn
	r.count(warn, "Validate's change logged")
	return nil
}

// validateLogged says whether the change the validator makes to its copy
// of a session with these values is one the docs say is logged: any change
// of a session it lets through; of one it refuses, a value or a Lifetime
// stored (a Delete, Clear or Destroy is not logged).
func validateLogged(values map[string]any, refused bool) bool {
	switch values["b"] {
	case "x": // Flashes: removes the flashes, if any
		_, flashes := values["_flash"].([]string)
		return flashes && !refused
	case "y": // Destroy
		return !refused
	}
	return true // Renew and a Lifetime no session holds; AddFlash and Set
}

// observe checks what the handler sees as it first uses the session.
func (r *modelRun) observe(s *cookiesession.Session, c *modelClient, st *reqState) error {
	if s.IsNew() == st.loaded {
		return fmt.Errorf("IsNew() = %v, want %v", s.IsNew(), !st.loaded)
	}
	if got, want := sessionValues(s), st.values; !cmp.Equal(got, want) {
		return fmt.Errorf("values (-want +got):\n%s", cmp.Diff(want, got))
	}
	if !st.loaded {
		switch {
		case !s.ExpiresAt().IsZero():
			return fmt.Errorf("a new session's ExpiresAt() = %v, want zero", s.ExpiresAt())
		case !s.CreatedAt().Equal(st.created):
			return fmt.Errorf("a new session's CreatedAt() = %v, want %v", s.CreatedAt(), st.created)
		case s.Lifetime() != (cookiesession.Lifetime{}):
			return fmt.Errorf("a new session's Lifetime() = %+v, want zero", s.Lifetime())
		}
		st.id = s.ID()
		if r.seenIDs[st.id] {
			return fmt.Errorf("a new session has the old id %s", st.id)
		}
		return nil
	}
	tok := c.tok
	switch {
	case s.ID() != tok.id:
		return fmt.Errorf("ID() = %s, want the cookie's %s", s.ID(), tok.id)
	case !s.CreatedAt().Equal(tok.created):
		return fmt.Errorf("CreatedAt() = %v, want %v", s.CreatedAt(), tok.created)
	case !s.ExpiresAt().Equal(st.deadline):
		return fmt.Errorf("ExpiresAt() = %v, want %v", s.ExpiresAt(), st.deadline)
	case !tok.lifeCut && s.Lifetime() != tok.life:
		return fmt.Errorf("Lifetime() = %+v, want %+v", s.Lifetime(), tok.life)
	}
	return nil
}

func sessionValues(s *cookiesession.Session) map[string]any {
	out := map[string]any{}
	for _, k := range s.Keys() {
		out[k], _ = s.Get(k)
	}
	return out
}

// emptied: a value removed that leaves none expires the cookie, Lifetime
// or not, until a SetLifetime after it.
func (st *reqState) emptied() {
	if len(st.values) == 0 {
		st.lifeKept = false
	}
}

func (r *modelRun) apply(w http.ResponseWriter, req *http.Request, s *cookiesession.Session, st *reqState, o modelOp) error {
	switch o.kind {
	case "set", "setbig":
		if err := s.Set(o.key, o.val); err != nil {
			return fmt.Errorf("Set(%s): %v", o.key, err)
		}
		if old, ok := st.values[o.key]; !ok || old != o.val {
			st.values[o.key], st.changed = o.val, true
		}
		st.stored = true
	case "del":
		s.Delete(o.key)
		if _, ok := st.values[o.key]; ok {
			delete(st.values, o.key)
			st.changed = true
			st.emptied()
		} else {
			r.dropUnread(st)
		}
	case "clear":
		s.Clear()
		st.changed = st.changed || st.lifeKept // a Lifetime alone no longer keeps the cookie
		st.lifeKept = false
		if len(st.values) > 0 {
			clear(st.values)
			st.changed = true
		} else {
			r.dropUnread(st)
		}
	case "get":
		return checkGet(s, st, o.key)
	case "pop":
		want, ok := st.values[o.key]
		if got, gotOK := s.Pop(o.key); gotOK != ok || got != want {
			return fmt.Errorf("Pop(%s) = %v, %v; want %v, %v", o.key, got, gotOK, want, ok)
		}
		if ok {
			delete(st.values, o.key)
			st.changed = true
			st.emptied()
		}
	case "popstring":
		want, _ := st.values[o.key].(string)
		if got := s.PopString(o.key); got != want {
			return fmt.Errorf("PopString(%s) = %q, want %q", o.key, got, want)
		}
		if _, isStr := st.values[o.key].(string); isStr { // another type is not deleted
			delete(st.values, o.key)
			st.changed = true
			st.emptied()
		}
	case "flash":
		// Messages wait, in order, under the key _flash, a list of strings.
		s.AddFlash(o.val.(string))
		list, _ := st.values["_flash"].([]string)
		st.values["_flash"] = append(slices.Clip(list), o.val.(string))
		st.changed, st.stored = true, true
	case "flashes":
		// Flashes returns the waiting messages and removes them: each is
		// seen once. A _flash that holds no list holds no messages.
		want, _ := st.values["_flash"].([]string)
		if got := s.Flashes(); !slices.Equal(got, want) {
			return fmt.Errorf("Flashes() = %q, want %q", got, want)
		}
		if want != nil {
			r.seen["flashes shown"]++
			delete(st.values, "_flash")
			st.changed = true
			st.emptied()
		}
	case "renew":
		s.Renew()
		st.renewed, st.id = true, ""
		st.created = r.clock.Now().Truncate(time.Second)
	case "destroy":
		s.Destroy()
		st.destroyed, st.id, st.life, st.lifeCut, st.lifeKept = true, "", cookiesession.Lifetime{}, false, false
		st.changed = st.changed || len(st.values) > 0
		clear(st.values)
		st.created = r.clock.Now().Truncate(time.Second)
	case "touch":
		s.Touch()
		st.touched = true
	case "skip":
		s.SkipRefresh()
		st.skip = true
	case "life":
		return r.setLifetime(s, st, o.life)
	case "save":
		err := r.m.Save(w, req, s)
		if tooLarge(st.values) != errors.Is(err, cookiesession.ErrTooLarge) || (err != nil && !tooLarge(st.values)) {
			return fmt.Errorf("Save: %v, want ErrTooLarge: %v", err, tooLarge(st.values))
		}
	}
	return nil
}

// dropUnread: a Delete or Clear that finds nothing to remove in a session
// whose cookie is under a key id this instance lacks means to remove what
// that cookie holds (a logout), so the response clears the cookie
// (Session.Clear's doc).
func (r *modelRun) dropUnread(st *reqState) {
	if st.unknownKey {
		st.dropped = true
		r.seen["Delete or Clear of a cookie under a removed key"]++
	}
}

func checkGet(s *cookiesession.Session, st *reqState, key string) error {
	want, ok := st.values[key]
	got, gotOK := s.Get(key)
	if ok != gotOK || got != want {
		return fmt.Errorf("Get(%s) = %v, %v; want %v, %v", key, got, gotOK, want, ok)
	}
	if n, isInt := want.(int); isInt && s.GetInt(key) != n {
		return fmt.Errorf("GetInt(%s) = %d, want %d", key, s.GetInt(key), n)
	}
	if str, isStr := want.(string); isStr && s.GetString(key) != str {
		return fmt.Errorf("GetString(%s) differs", key)
	}
	return nil
}

// setLifetime checks SetLifetime's answer: an IdleTimeout over the MaxAge
// that applies, or a MaxAge the session has outlived, is refused; a
// duration over the ceiling is cut to it.
func (r *modelRun) setLifetime(s *cookiesession.Session, st *reqState, l cookiesession.Lifetime) error {
	if l.IdleTimeout > r.ceiling {
		return nil // whether the cut or the refusal comes first is not documented
	}
	maxAge := r.maxAge
	if l.MaxAge > 0 {
		maxAge = l.MaxAge
	}
	refuse := l.IdleTimeout > maxAge || !r.clock.Now().Before(st.created.Add(min(maxAge, r.ceiling)))
	err := s.SetLifetime(l)
	if (err != nil) != refuse {
		return fmt.Errorf("SetLifetime(%+v) = %v, want an error: %v", l, err, refuse)
	}
	if err == nil && r.cfg.BrowserSession && l == (cookiesession.Lifetime{}) {
		l.MaxAge = r.maxAge // a zero Lifetime would follow the Options' browser-session cookie
	}
	if err == nil {
		st.lifeSet = st.lifeSet || l != st.life
		st.lifeKept = l != cookiesession.Lifetime{}
		st.stored = st.stored || st.lifeKept // a save writes it as it would a value
		st.life, st.lifeCut = l, l.MaxAge > r.ceiling || l.IdleTimeout > r.ceiling
	}
	return nil
}

// finalID checks the id the session ends the request with: the one it
// had, unless Renew or Destroy drew a new one, which no session had.
func (r *modelRun) finalID(s *cookiesession.Session, st *reqState) error {
	id := s.ID()
	if st.id != "" && id != st.id {
		return fmt.Errorf("ID() changed from %s to %s", st.id, id)
	}
	if st.id == "" && r.seenIDs[id] {
		return fmt.Errorf("Renew or Destroy kept the old id %s", id)
	}
	if want := !st.loaded || st.renewed || st.destroyed; s.IsNew() != want {
		return fmt.Errorf("IsNew() = %v at the end, want %v", s.IsNew(), want)
	}
	st.id = id
	r.seenIDs[id] = true
	return nil
}

// refreshWindow is how much of the idle window may remain for a rolling
// refresh to be due: RefreshThreshold of it, 0.5 by default.
func (r *modelRun) refreshWindow(idle time.Duration) time.Duration {
	threshold := r.cfg.RefreshThreshold
	if threshold == 0 {
		threshold = 0.5
	}
	return time.Duration(threshold * float64(idle))
}

func catchPanic(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func tooLarge(values map[string]any) bool {
	n := 0
	for k := range values {
		if strings.HasPrefix(k, "big") {
			n++
		}
	}
	return n >= 3
}

// expectation of the session's Set-Cookie lines in one response.
type expectation int

const (
	expectNone expectation = iota
	expectWrite
	expectClear
	expectNoneOrClear
)

// commit says what the response must carry, and what the client then
// holds. It follows doc.go's "When a cookie is sent".
func (r *modelRun) commit(c *modelClient, st *reqState) (expectation, *modelToken) {
	now := r.clock.Now()
	maxAge, idle := r.limits(st.life)
	switch {
	case len(st.values) > 0 || st.lifeKept:
		r.count(len(st.values) == 0, "Lifetime kept without values")
		slid := earliest(st.created.Add(maxAge), now.Truncate(time.Second).Add(idle))
		refreshDue := st.loaded && !st.skip &&
			(st.deadline.Sub(now) < r.refreshWindow(idle) && slid.After(st.deadline) || st.deadline.Sub(now) > idle+time.Minute)
		changed := st.changed || st.lifeSet // a new Lifetime is a change too
		slide := !st.loaded || st.renewed || st.destroyed || st.touched || (!st.skip && (changed || refreshDue))
		if !slide && !(st.loaded && !st.skip && c.tok.key != r.primary) && !changed { // a poll re-keys nothing
			return expectNone, c.tok
		}
		r.count(refreshDue, "rolling refresh")
		// RefreshThreshold 1 re-seals only where that moves the deadline:
		// not in the second of the last seal, nor near the end of MaxAge.
		if r.cfg.RefreshThreshold == 1 && st.loaded && !st.skip && !refreshDue {
			r.count(st.deadline.Before(st.created.Add(maxAge)), "RefreshThreshold 1, no refresh: same second")
			r.count(!st.deadline.Before(st.created.Add(maxAge)), "RefreshThreshold 1, no refresh: MaxAge")
		}
		r.count(!slide && !changed, "re-key alone")
		r.count(st.skip && changed && !slide, "change under SkipRefresh")
		r.count(st.skip && st.lifeSet && !slide, "Lifetime set under SkipRefresh")
		r.count(!r.persistent(st.life), "browser-session cookie written")
		r.count(st.lifeSet, "Lifetime set")
		tok := &modelToken{values: st.values, id: st.id, created: st.created, life: st.life, lifeCut: st.lifeCut, key: r.primary}
		tok.deadline = slid
		if !slide { // a re-key keeps the deadline; a change under SkipRefresh never extends it
			tok.deadline = st.deadline
			if changed {
				tok.deadline = earliest(st.deadline, slid)
			}
		}
		if r.persistent(st.life) {
			// The whole seconds left, and at least 1: Max-Age=0 deletes.
			tok.jarExpires = now.Add(max(tok.deadline.Sub(now).Truncate(time.Second), time.Second))
		}
		return expectWrite, tok
	case c.tok == nil && (st.refused && !st.skip || st.dropped):
		return expectClear, nil
	case c.tok == nil && (st.stored || st.destroyed):
		return expectNoneOrClear, nil // expiring a cookie the client lacks changes nothing
	case c.tok == nil:
		return expectNone, nil
	case st.loaded || st.refused && !st.skip || st.destroyed || st.dropped:
		r.seen["cookie cleared"]++
		return expectClear, nil
	case st.refused && !st.stored:
		// A polling read leaves a refused cookie for the next request
		// without SkipRefresh to clear (TestPollRacingLogin).
		r.seen["refused cookie kept by a poll"]++
		return expectNone, c.tok
	case st.panics && !st.stored:
		// A panic in Validate is not a refusal: the cookie is kept for a
		// later request, unless the recovery stores a value or destroys.
		r.seen["Validate panicked, cookie kept"]++
		return expectNone, c.tok
	case st.stored:
		// A cookie under an unknown key is "not cleared unless the handler
		// stores something": one that stored and then emptied the session
		// may clear it (it does after a Save) or keep it.
		return expectNoneOrClear, c.tok
	}
	return expectNone, c.tok // an unknown key id: kept for the instance that has it
}

func (r *modelRun) checkResponse(resp *http.Response, c *modelClient, st *reqState, used bool) (modelEffect, error) {
	err := r.checkLines(resp, c, st, used)
	if err != nil {
		return modelEffect{}, err
	}
	eff := modelEffect{prev: c.tok, expired: map[int]bool{}}
	set := map[int]bool{}
	for _, ck := range resp.Cookies() {
		switch i := chunkIndexOf(ck.Name, r.name); {
		case i < 0:
			eff.retired = eff.retired || ck.MaxAge < 0
		case ck.MaxAge < 0:
			eff.expired[i] = true
		default:
			set[i] = true
		}
	}
	eff.tok, eff.clear = st.wrote, st.wrote == nil && len(eff.expired) > 0
	return eff, r.checkChunkLines(c, st, eff, set)
}

// checkChunkLines checks which of the session's chunk cookies a response
// sets and expires (FORMAT.md section 5): a token's own chunks, in index
// order; above them, for a token over several cookies every chunk up to
// MaxChunks, held or not, and for one of one cookie the chunks the
// request carried (a line for another changes nothing: the token is read
// alone); for a clear, the chunks the request carried (a line for another
// reaches nothing that the first's does not end). Chunks carried without
// the first stay, whatever the handler did: a line for the first, or for
// one of them, reaches only a session a parallel response set, which it
// would sign out.
func (r *modelRun) checkChunkLines(c *modelClient, st *reqState, eff modelEffect, set map[int]bool) error {
	carried := c.staleOf(r.name)
	for i := range chunksOf(c.tok) {
		carried = append(carried, i)
	}
	var must []int
	switch k := chunksOf(eff.tok); {
	case eff.tok != nil && k > 1:
		for i := k; i < modelChunks; i++ {
			must = append(must, i)
		}
	case eff.tok != nil:
		must = slices.DeleteFunc(slices.Clone(carried), func(i int) bool { return i == 0 })
	case eff.clear:
		must = carried
	}
	for i := range chunksOf(eff.tok) {
		if !set[i] {
			return fmt.Errorf("a token of %d chunks, chunk %d not set", chunksOf(eff.tok), i)
		}
		delete(set, i)
	}
	if len(set) > 0 {
		return fmt.Errorf("chunks %v set beside a token of %d", slices.Sorted(maps.Keys(set)), chunksOf(eff.tok))
	}
	for _, i := range must {
		if !eff.expired[i] {
			return fmt.Errorf("chunk %d not expired (the request carried chunks %v; the response wrote %d)", i, carried, chunksOf(eff.tok))
		}
	}
	for i := range eff.expired {
		if i < chunksOf(eff.tok) {
			return fmt.Errorf("chunk %d both set and expired", i)
		}
		if eff.tok == nil && len(carried) > 0 && !slices.Contains(carried, 0) {
			return fmt.Errorf("a clear expires chunk %d, the request carried chunks %v without the first, which stay: a line for the first, or for one of them, reaches only a session a parallel response set", i, carried)
		}
	}
	return nil
}

func (r *modelRun) checkLines(resp *http.Response, c *modelClient, st *reqState, used bool) error {
	ours := map[string]*http.Cookie{}
	expired := map[string]bool{} // retired names the response expires
	for _, ck := range resp.Cookies() {
		if isChunkOf(ck.Name, r.name) {
			ours[ck.Name] = ck
		}
		for _, name := range r.retiredNames() {
			if isChunkOf(ck.Name, name) && ck.MaxAge >= 0 {
				return fmt.Errorf("Set-Cookie %q writes the retired %s", setCookies(resp), name)
			}
			expired[name] = expired[name] || ck.Name == name
		}
	}
	if !used {
		if len(resp.Cookies()) > 0 || resp.Header.Get("Vary") != "" {
			return fmt.Errorf("untouched session, yet Set-Cookie %q, Vary %q", setCookies(resp), resp.Header.Get("Vary"))
		}
		return nil
	}
	if !slices.Contains(resp.Header.Values("Vary"), "Cookie") {
		return fmt.Errorf("Vary = %q, want Cookie", resp.Header.Values("Vary"))
	}
	if tooLarge(st.values) {
		r.seen["too large"]++
		if resp.StatusCode != http.StatusInternalServerError || len(resp.Cookies()) > 0 {
			return fmt.Errorf("too large: status %d, Set-Cookie %q; want 500 and none", resp.StatusCode, setCookies(resp))
		}
		return nil // the client keeps what it had
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	want, tok := r.commit(c, st)
	main := ours[r.name]
	switch {
	case want == expectNone && len(ours) > 0:
		return fmt.Errorf("Set-Cookie %q, want none", setCookies(resp))
	case want == expectNoneOrClear && main != nil && main.MaxAge >= 0:
		return fmt.Errorf("Set-Cookie %q, want none, or the cookie expired", setCookies(resp))
	case want == expectClear && c.tok != nil && (main == nil || main.MaxAge >= 0):
		// Without a token, the chunks carried are expired, and only
		// those (checkChunkLines).
		return fmt.Errorf("Set-Cookie %q, want the cookie expired", setCookies(resp))
	case want == expectWrite && (main == nil || main.MaxAge < 0):
		return fmt.Errorf("Set-Cookie %q, want the session written", setCookies(resp))
	}
	// A response that ends the session with nothing of its own to expire
	// (only chunks without the first, which stay) may expire the retired
	// cookies all the same.
	ended := len(st.values) == 0 && !st.lifeKept && (st.destroyed || st.stored)
	if err := r.checkRetired(c, expired, len(ours) > 0, ended); err != nil {
		return fmt.Errorf("%v: Set-Cookie %q", err, setCookies(resp))
	}
	if len(resp.Cookies()) > 0 && !slices.Contains(resp.Header.Values("Cache-Control"), "no-store") {
		return fmt.Errorf("Set-Cookie without Cache-Control: no-store")
	}
	if want == expectWrite {
		st.wrote = tok
	}
	return nil
}

// checkRetired checks the lines that expire retired cookies in the
// response to a request that used its session: every cookie Retired lists
// is expired if the response sets or expires the session's cookies or the
// request carried a retired one, and none otherwise, but for a response
// that ended the session (may). The client then holds none.
func (r *modelRun) checkRetired(c *modelClient, expired map[string]bool, setsSession, may bool) error {
	if !r.cfg.Renames {
		return nil
	}
	carried := len(c.retired)
	for name := range c.stale {
		carried += boolInt(chunkIndexOf(name, r.name) < 0)
	}
	want := setsSession || carried > 0
	for _, name := range r.retiredNames() {
		if expired[name] != want && !(may && expired[name]) {
			return fmt.Errorf("the retired %s expired: %v, want %v (the request carried %d retired)", name, expired[name], want, carried)
		}
	}
	r.count(len(c.retired) > 0, "retired cookie sent")
	r.count(len(c.retired) == 0 && carried > 0, "stale retired chunk sent")
	return nil
}

// setCookies abbreviates the response's Set-Cookie lines for a message.
func setCookies(resp *http.Response) []string {
	var out []string
	for _, c := range resp.Cookies() {
		v := c.Value
		if len(v) > 12 {
			v = v[:12] + "…"
		}
		out = append(out, fmt.Sprintf("%s=%s Max-Age=%d", c.Name, v, c.MaxAge))
	}
	return out
}

// checkJar compares what the browser holds with the model's tokens.
func (r *modelRun) checkJar(c *modelClient) error {
	c.jar.expire()
	c.forget(r.clock.Now(), false)
	for _, name := range modelNames {
		tok := c.tok
		if name != r.name {
			tok = c.retired[name]
		}
		if err := checkChunks(c.jar, name, tok, c.stale); err != nil {
			return err
		}
	}
	return nil
}

// checkChunks compares the browser's cookies of one name with a token's
// chunks and the stale chunks beside them.
func checkChunks(jar *modelJar, base string, tok *modelToken, stale map[string]staleChunk) error {
	want := map[string]time.Time{}
	for i := range chunksOf(tok) {
		want[modelChunkName(base, i)] = tok.jarExpires
	}
	for name, sc := range stale {
		if chunkIndexOf(name, base) >= 0 {
			want[name] = sc.expires
		}
	}
	var names []string
	for name := range jar.cookies {
		if isChunkOf(name, base) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if wantNames := slices.Sorted(maps.Keys(want)); !slices.Equal(names, wantNames) {
		return fmt.Errorf("the browser holds %q, want %q (%d of the token, the rest stale)", names, wantNames, chunksOf(tok))
	}
	for name, expires := range want {
		if ck := jar.cookies[name]; !ck.expires.Equal(expires) {
			return fmt.Errorf("%s expires at %v, want %v (zero: when the browser closes)", name, ck.expires, expires)
		}
	}
	return nil
}

func modelChunkName(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "." + strconv.Itoa(i)
}
