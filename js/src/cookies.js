// The cookie transport (FORMAT.md section 5): reading a token from a Cookie
// header with its chunks, and writing Set-Cookie values chunked as Go's
// Manager writes them.

import { checkMembers, codecOfCookies, expiresAsGiven, expiresOfLifetime, headerBytes, heldValues, isOpened, otherThanHeld, setHeldValues, MIN_TOKEN_LEN, resealDue, sealLifetime, SessionError } from './codec.js';

const MAX_CHUNKS_LIMIT = 64;
/** The most of a cookie's name plus value that browsers keep, as in Go. */
const BROWSER_COOKIE_SIZE = 4096;
// Chromium keeps 10,240 bytes (names and values) of a site's Partitioned
// cookies, and reads 262,144 bytes of a response's header.
const PARTITION_BYTES = 10240;
const RESPONSE_HEADER_BYTES = 262144;
const MAX_COOKIES = 3000; // net/http's limit: more cookies than this count as none
/**
 * The longest Max-Age browsers honour, in seconds, as Go's browserMaxAge:
 * RFC 6265bis has them cut a longer one to at most 400 days, as Chrome has
 * done since M104, and the server is not told.
 */
const BROWSER_MAX_AGE = 400 * 86400;
const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' };
const OPTIONS = ['name', 'maxAge', 'idleTimeout', 'refreshThreshold', 'maxLifetime', 'maxCookieSize', 'maxChunks', 'path', 'domain', 'secure', 'httpOnly', 'sameSite', 'partitioned', 'browserSession'];
const FLAGS = ['secure', 'httpOnly', 'partitioned', 'browserSession'];
const utf8 = new TextEncoder();

// flooded reports whether the Cookie header lines hold more cookies than
// are read: such a request counts as carrying none.
const flooded = (cookieHeader) => {
  const lines = cookieHeader == null ? [] : Array.isArray(cookieHeader) ? cookieHeader : [cookieHeader];
  return lines.reduce((n, line) => n + (typeof line === 'string' ? line.split(';').length : 0), 0) > MAX_COOKIES;
};

/**
 * SessionCookies reads and writes one session cookie configuration, as Go's
 * Manager does: the chunks are named name, name.1, ... name.(maxChunks-1),
 * and each cookie's name plus value is at most maxCookieSize bytes. The
 * token limit is the sum of the chunks' capacities, as in Go.
 */
export class SessionCookies {
  #names;
  #caps;
  #attrs;
  #browserSession;
  #maxAge;
  #idle;
  #ceiling;
  #threshold;

  constructor(ring, options = {}) {
    checkMembers('SessionCookiesOptions', options, OPTIONS, FLAGS);
    const { name = 'session', maxCookieSize = 4096, maxChunks = 1, browserSession = false, refreshThreshold = 0.5 } = options;
    if (typeof refreshThreshold !== 'number' || !(refreshThreshold > 0 && refreshThreshold <= 1)) {
      throw new RangeError(`cookiesession: refreshThreshold ${String(refreshThreshold)} is not in (0, 1], as Go's Options.RefreshThreshold`);
    }
    this.#threshold = refreshThreshold;
    if (!Number.isInteger(maxChunks) || maxChunks < 1 || maxChunks > MAX_CHUNKS_LIMIT) {
      throw new RangeError(`cookiesession: maxChunks must be between 1 and ${MAX_CHUNKS_LIMIT}`);
    }
    if (!Number.isInteger(maxCookieSize) || maxCookieSize < 1) throw new RangeError('cookiesession: maxCookieSize must be positive');
    if (maxCookieSize > BROWSER_COOKIE_SIZE) {
      throw new RangeError(`cookiesession: maxCookieSize ${maxCookieSize} is over ${BROWSER_COOKIE_SIZE}, the most browsers keep of a cookie's name and value: they would drop the cookie without a word; raise maxChunks for a larger session`);
    }
    this.#names = Array.from({ length: maxChunks }, (_, i) => (i === 0 ? name : `${name}.${i}`));
    this.#attrs = attributes(name, options);
    this.#caps = chunkCaps(this.#names, maxCookieSize, this.#attrs, options.partitioned === true);
    const total = this.#caps.reduce((sum, c) => sum + c, 0);
    if (total < MIN_TOKEN_LEN) {
      throw new RangeError(`cookiesession: maxCookieSize ${maxCookieSize} x maxChunks ${maxChunks} cannot hold an empty session (${MIN_TOKEN_LEN} bytes of token)`);
    }
    const { maxAge, idleTimeout, maxLifetime } = options;
    // The Codec checks each value first (a 0 is refused there, by name).
    /** The Codec behind the cookies; its token limit is the chunks' total capacity. */
    this.codec = codecOfCookies(ring, { name, maxAge, idleTimeout, maxLifetime, maxTokenLen: total });
    if (!browserSession) checkBrowserMaxAge('', maxAge ?? 86400, idleTimeout ?? 0);
    if (maxLifetime !== undefined && maxLifetime < (maxAge ?? 86400)) {
      // As Go's New: the ceiling would cut every session to it, and maxAge
      // would mean nothing.
      throw new RangeError(`cookiesession: maxLifetime ${maxLifetime} is below maxAge ${maxAge ?? 86400}; it bounds the lifetimes sessions may ask for, so set it at least as long`);
    }
    if ((idleTimeout ?? 0) > 0 && idleTimeout >= (maxLifetime ?? maxAge ?? 86400)) {
      // As Go's New: the absolute lifetime would end every session first
      // (express-session's rolling cookie.maxAge ported as idleTimeout,
      // maxAge left at its default of a day, is the equal case).
      throw new RangeError(`cookiesession: idleTimeout ${idleTimeout} is not shorter than ${maxLifetime === undefined ? 'maxAge' : 'maxLifetime'} ${maxLifetime ?? maxAge ?? 86400}, which would end every session first however active it is; raise ${maxLifetime === undefined ? 'maxAge' : 'maxLifetime'} above it`);
    }
    this.#maxAge = maxAge ?? 86400;
    this.#idle = idleTimeout ?? 0;
    this.#ceiling = maxLifetime ?? this.#maxAge;
    this.#browserSession = browserSession;
  }

  /**
   * Reads the session's chunks from a Cookie header (a string, or an array
   * of header lines) and opens the token at now. Returns null if the
   * request carries none of the chunks; throws a SessionError if they do
   * not open. A request that carried two values for one chunk name, or
   * several chunks, gets FORMAT.md section 5 step 5, as in Go: the first
   * cookie of the base name that opens (alone, or joined with the chunks
   * sent) is the session.
   */
  open(cookieHeader, now = new Date()) {
    const cookies = this.#cookies(cookieHeader);
    const { values, shadowed } = read(cookies);
    if (values.length === 0) {
      this.#refuseBareValue(cookieHeader, now);
      return null;
    }
    try {
      let tried = ''; // step 4's token, which step 5 does not open again
      try {
        tried = this.#join(values);
        return this.codec.open(tried, now);
      } catch (err) {
        if (!(err instanceof SessionError) || !(shadowed || values.length > 1)) throw err;
        return this.#openShadowed(cookies, now, err, tried);
      }
    } catch (err) {
      // As Go's Manager: of two values for one name, a clear would reach
      // only the cookie set with this Path and Domain, which may be the
      // session's own; the other, tossed by another host, would stay.
      if (shadowed && err instanceof SessionError) err.keepCookie = true;
      // As Go's Manager: chunks without the first, which a logout that
      // landed after a parallel response that grew the session leaves,
      // open nowhere, and a clear would expire the first too, which
      // reaches only a session another response set meanwhile (a login's).
      if (!(0 in values) && err instanceof SessionError) err.keepCookie = true;
      const beyond = err.kind === 'invalid' && this.#beyond(cookieHeader);
      // As Go's Manager: an instance with a higher maxChunks may read it.
      if (beyond) err.keepCookie = true;
      // Go's reason, and what an edge built with fewer chunks than the Go
      // Manager cannot tell from a forged cookie: the options to set.
      if (beyond) err.message += `; the request also carries the cookie ${beyond}, a chunk beyond maxChunks ${this.#names.length}: set the maxChunks and maxCookieSize options to the MaxChunks and MaxCookieSize of the Go Options that wrote it`;
      throw err;
    }
  }

  // #refuseBareValue throws when the header holds no cookie of the
  // session's names but is one bare value that starts as a token of this
  // ring does (its version and a key id the ring holds): the cookie's
  // value given in the header's place (request.cookies.get(name)?.value,
  // req.cookies[name]), which would otherwise read as no session, on every
  // request, without a word. A browser sends no such header (the cookie is
  // HttpOnly), so it comes by hand, and Go's Manager reads it as no session
  // as null does. keepCookie: the browser's cookie is fine, and a clear
  // would sign the user out.
  #refuseBareValue(cookieHeader, now) {
    const all = [...parts(cookieHeader)].filter(([name, value]) => name !== '' || value !== '');
    if (all.length !== 1 || all[0][1] !== '') return;
    const value = all[0][0].replace(/^"(.*)"$/, '$1');
    if (value.length < MIN_TOKEN_LEN || !/^[A-Za-z0-9_-]+$/.test(value)) return;
    // The first MIN_TOKEN_LEN characters decode whole, whatever the length
    // of a first chunk: a token's header gets past the version and to the
    // key, and a key the ring holds (never the reserved 0) is named in the
    // error. A token of an empty session opens.
    try {
      this.codec.open(value.slice(0, MIN_TOKEN_LEN), now);
    } catch (err) {
      if (!(err instanceof SessionError) || err.kind === 'unknown_key' || err.keyId === 0) return;
    }
    const name = this.#names[0];
    const refusal = new SessionError('invalid', `the Cookie header holds no cookie named ${name} and is itself a session token, or its first chunk: give open and chunksSent the whole Cookie header (request.headers.get('cookie'), req.headers.cookie), not the cookie's value (request.cookies.get('${name}')?.value, req.cookies.${name})`);
    refusal.keepCookie = true;
    throw refusal;
  }

  // #beyond returns, as Go's Manager reads them (FORMAT.md section 5), the
  // name of the highest of the header's chunks of this name past maxChunks
  // (Go's Manager allows 64) that run from maxChunks up without a gap,
  // each with base64url text as its value (less one pair of double quotes),
  // or undefined. A cookie above a gap, or with another value (JSON, a dot,
  // padding, nothing), is the application's own, not a chunk.
  #beyond(cookieHeader) {
    const base = `${this.#names[0]}.`;
    const sent = new Set();
    for (const [name, value] of parts(cookieHeader)) {
      const i = name.startsWith(base) && /^[1-9][0-9]?$/.test(name.slice(base.length)) ? Number(name.slice(base.length)) : 0;
      const quoted = value.length > 1 && value[0] === '"' && value[value.length - 1] === '"';
      if (i >= this.#names.length && i < MAX_CHUNKS_LIMIT && /^[A-Za-z0-9_-]+$/.test(quoted ? value.slice(1, -1) : value)) sent.add(i);
    }
    let next = this.#names.length;
    while (sent.has(next)) next++;
    return next > this.#names.length ? `${base}${next - 1}` : undefined;
  }

  /**
   * How many chunk cookies the request holds: the highest index sent plus
   * one. A header of more cookies than are read (3000) may hold any of
   * them, so it counts as every chunk, as Go's Destroy takes it.
   */
  chunksSent(cookieHeader) {
    if (flooded(cookieHeader)) return this.#names.length;
    return read(this.#cookies(cookieHeader)).values.length;
  }

  /**
   * The Cookie header to send on to the origin with the request, after
   * seal or clear gave lines for the response: cookieHeader with every
   * cookie of the session's names replaced by those the lines set (none,
   * for lines that clear), first. The origin then reads the session the
   * edge wrote, not the one the browser sent, and its own change (a value,
   * a logout) starts from the edge's. Lines that name none of them (refresh
   * gave []) leave the header as it is.
   */
  forward(cookieHeader, lines) {
    this.#cookies(cookieHeader); // refuses what is not the header's text
    const ours = checkLines(lines, 'forward(cookieHeader, lines) takes the lines seal or clear gave').filter((line) => this.#names.includes(setName(line)));
    if (ours.length === 0) return cookieHeader == null ? '' : [cookieHeader].flat().join('; ');
    const set = ours.filter((line) => !/; Max-Age=0(;|$)/.test(line)).map((line) => line.split(';')[0]);
    const kept = [];
    for (const line of cookieHeader == null ? [] : [cookieHeader].flat()) {
      for (const part of line.split(';')) {
        const [name] = [...parts(part)][0];
        if (name !== '' && !this.#names.includes(name)) kept.push(trimASCIISpace(part));
      }
    }
    return set.concat(kept).join('; ');
  }

  /**
   * The lines of lines (from seal or clear) to append after the origin's
   * Set-Cookie lines (such as response.headers.getSetCookie()). The
   * browser applies the lines in order, so the edge's would replace the
   * origin's: a logout or a login at the origin would be undone. All of
   * lines when the origin's set none of the session's names; else (with
   * the Cookie header from forward, the origin's carry the edge's change)
   * only those that expire a chunk the origin's do not name, which the
   * edge's smaller session left.
   */
  merge(originLines, lines) {
    // A string is refused: headers.get('set-cookie') joins the lines with
    // ", ", and only the first would be read.
    const origin = checkLines(originLines ?? [], "merge(originLines, lines) takes the origin's Set-Cookie lines, such as response.headers.getSetCookie() or [res.getHeader('set-cookie') ?? []].flat()")
      .map(setName).filter((name) => this.#names.includes(name));
    checkLines(lines, 'merge(originLines, lines) takes the lines seal or clear gave');
    if (origin.length === 0) return lines;
    return lines.filter((line) => /; Max-Age=0(;|$)/.test(line) && !origin.includes(setName(line)));
  }

  // #cookies returns [index, value] for each cookie of a chunk name, in
  // header order, as Go's Manager splits the Cookie header lines (FORMAT.md
  // section 5): at ";", then at the first "=", with space, tab, CR and LF
  // trimmed around each part and again around the name. The value is kept
  // as sent (less one pair of double quotes): anything else in it, such as
  // a no-break space, makes the token fail to decode, as in Go.
  #cookies(cookieHeader) {
    const lines = cookieHeader == null ? [] : Array.isArray(cookieHeader) ? cookieHeader : [cookieHeader];
    if (!lines.every((line) => typeof line === 'string')) {
      throw new TypeError("cookiesession: give the Cookie header's text, such as request.headers.get('cookie') or req.headers.cookie");
    }
    if (flooded(lines)) return [];
    const cookies = [];
    for (const [name, value] of parts(lines)) {
      const i = this.#names.indexOf(name);
      if (i < 0) continue;
      const quoted = value.length > 1 && value[0] === '"' && value[value.length - 1] === '"';
      cookies.push([i, quoted ? value.slice(1, -1) : value]);
    }
    return cookies;
  }

  // #openShadowed is step 5, as Go's Manager.openShadowed: it runs when
  // the token of steps 1 to 4 (tried, or '' if step 3 refused the set) did
  // not open, with err. A cookie another host set for a parent domain or a
  // longer path (cookie tossing) comes before the session's own, and a chunk
  // name the session did not write spoils the join, so it tries, for each
  // candidate of the base name (see shadowSets), the chains of chunk
  // candidates that follow it, within MAX_SHADOW_OPENS opens. Each is opened
  // in full, so this chooses only among tokens the ring sealed for this
  // name. If none opens, it throws the first error that keeps the cookie
  // (its keepCookie), else err.
  #openShadowed(cookies, now, err, tried) {
    const sets = shadowSets(cookies, this.#names.length);
    let budget = MAX_SHADOW_OPENS;
    let kept = err.keepCookie;
    const open = (pieces, size) => {
      const token = pieces.map(([value]) => value).join('');
      // A chain of several values too short to open counts all the same,
      // as in Go: else tiny chunks under many names would be joined in
      // every combination without spending the budget.
      if (budget === 0 || (pieces.length === 1 && size < MIN_TOKEN_LEN) || token === tried) return null;
      budget--;
      try {
        return this.codec.open(token, now);
      } catch (e) {
        if (!(e instanceof SessionError)) throw e;
        if (!kept && e.keepCookie) [err, kept] = [e, true];
        return null;
      }
    };
    // chain is Go's shadowSearch.chain: pieces followed by each candidate
    // of the next chunk name, when the last piece fills its chunk, then
    // pieces alone.
    const chain = (pieces, size) => {
      const i = pieces.length;
      if (i < sets.length && pieces[i - 1][1] === this.#caps[i - 1]) {
        for (const c of sets[i]) {
          if (budget === 0) return null;
          const opened = size + c[1] <= this.codec.maxTokenLen && chain([...pieces, c], size + c[1]);
          if (opened) return opened;
        }
      }
      return open(pieces, size);
    };
    for (const base of sets[0]) {
      const opened = chain([base], base[1]);
      if (opened) return opened;
    }
    throw err;
  }

  // #join concatenates the chunks, which must have no gaps and together
  // stay within the token limit.
  #join(values) {
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      if (!(i in values)) {
        throw new SessionError('invalid', `cookie ${this.#names[values.length - 1]} present but chunk ${this.#names[i]} missing`);
      }
      total += headerBytes(values[i]).length;
    }
    if (total > this.codec.maxTokenLen) {
      throw new SessionError('invalid', `cookie chunks of ${total} bytes exceed the limit of ${this.codec.maxTokenLen}`);
    }
    return values.join('');
  }

  /**
   * Seals record at now and returns the Set-Cookie header values: one per
   * chunk the token needs, then lines expiring any higher chunk the
   * request held (pass chunksSent(cookieHeader) as sent; without it, every
   * higher chunk, since one left behind would spoil the next request's
   * token). A token over several cookies expires every higher chunk
   * whatever sent is: of two parallel responses, the one with fewer chunks
   * may land last, beside the other's higher ones. A record with a
   * lifetime of its own decides, by its browserSession, whether Max-Age is
   * written; any other follows the browserSession option. A session
   * left with no values (a record open or seal returned, or a copy: it
   * has a keyId, whose token held values) gets the lines that expire its cookie, as Go's Manager
   * expires the cookie of a session whose values were all deleted (a
   * token would keep its id and lifetime for the next sign-in), unless a
   * lifetime other than the one it was opened with is set on it, as Go's
   * SetLifetime after the deletes keeps it.
   */
  seal(record, now = new Date(), sent = this.#names.length) {
    return this.#seal(record, now, sent, true);
  }

  #seal(record, now, sent, emptiedClears) {
    checkSent(sent);
    const lifetimeSet = record.lifetime != null && !isOpened(record.lifetime);
    if (lifetimeSet) {
      // Checked first: a typo (maxage) or a NaN would read as the all-zero
      // lifetime below, and be replaced without a word.
      const zero = sealLifetime(record.lifetime) === null;
      if (this.#browserSession && zero) {
        // As Go's SetLifetime: a zero lifetime under the browserSession
        // option asks for a persistent cookie, which needs a lifetime the
        // token carries (an all-zero one is none, and seals version 1).
        record.lifetime = { maxAge: Math.min(this.#maxAge, this.#ceiling), idleTimeout: 0, browserSession: false };
      }
      this.#checkLifetime(record.lifetime);
      // As Go's SetLifetime, which makes the session changed: the deadline
      // is the new lifetime's, not the one the token was opened with (a
      // 30-day "remember me" would end with the 30-minute idle window).
      // One the caller set is kept, as Codec.seal keeps it.
      if (expiresAsGiven(record)) record.expires = undefined;
    } else if (record.lifetime == null && expiresOfLifetime(record)) {
      // As Go's SetLifetime(Lifetime{}): a lifetime dropped ("forget me")
      // leaves the deadline of the options, not the one the session's own
      // lifetime gave (a week, where the idle window is 30 minutes).
      record.expires = undefined;
    }
    const emptied = Boolean(record.keyId) && heldValues(record) !== false;
    // Go's SetLifetime after the deletes keeps the session; one before
    // them (a middleware's, every request, then a logout) does not. Only
    // a lifetime other than the token's tells the first apart here.
    const lifetimeNew = lifetimeSet && otherThanHeld(record, sealLifetime(record.lifetime));
    let token = this.codec.seal(record, now); // which checks the record first
    if (emptiedClears && emptied && (record.values?.size ?? 0) === 0 && !(lifetimeNew && record.lifetime !== null)) {
      // As Go's Manager, for a session whose values a request deleted
      // (Delete, Clear), unless another lifetime is set after (SetLifetime); one
      // that held none (a lifetime set before any value) is sealed, and
      // refresh re-seals one read with none. The token is not sent: a
      // copy sealed after is the same session, left with no values.
      setHeldValues(record, true);
      return this.clear(sent);
    }
    // Whole seconds left, rounded toward zero as Go's Duration division.
    const maxAge = (record.expires * 1000n - BigInt(now.getTime())) / 1000n;
    const browserSession = record.lifetime === null ? this.#browserSession : record.lifetime.browserSession;
    const lines = [];
    for (let i = 0; token.length > 0 || i === 0; i++) {
      const n = Math.min(token.length, this.#caps[i]);
      const age = browserSession ? '' : `; Max-Age=${maxAge > 1n ? maxAge : 1n}`;
      lines.push(`${this.#names[i]}=${token.slice(0, n)}${age}${this.#attrs.scope}${this.#attrs.flags}`);
      token = token.slice(n);
    }
    return lines.concat(this.clear(lines.length > 1 ? this.#names.length : sent).slice(lines.length));
  }

  /**
   * Set-Cookie values for a session read and not changed, as Go's Manager
   * would send them at now: record sealed again with a new deadline when a
   * rolling refresh is due, or under the primary key with its deadline
   * kept when its token is under an old one; the lines that expire the
   * cookie when the session has ended by now (it was opened at an earlier
   * one), as Go refuses it; else none ([]). Without it,
   * a user active only here is signed out after idleTimeout, and keeps a
   * key that is to be removed.
   */
  refresh(record, now = new Date(), sent = this.#names.length) {
    checkSent(sent);
    const due = resealDue(this.codec, record, now, this.#threshold);
    if (due === null) return [];
    if (due === 'expired') return this.clear(sent); // as Go's Manager answers a cookie it refuses
    if (due === 'refresh') record.expires = undefined;
    return this.#seal(record, now, sent, false);
  }

  // #checkLifetime refuses a lifetime the caller set that cannot be kept,
  // as Go's SetLifetime does: an idle timeout the session's MaxAge would end
  // first, a persistent cookie whose Max-Age can pass what browsers keep,
  // and (where Go cuts it and logs) one beyond maxLifetime. A lifetime
  // opened from a cookie is cut to maxLifetime, as in Go.
  #checkLifetime({ maxAge = 0, idleTimeout = 0, browserSession = false }) {
    const sessionMaxAge = maxAge || this.#maxAge;
    if (idleTimeout > sessionMaxAge) {
      throw new RangeError(`cookiesession: lifetime.idleTimeout ${idleTimeout} is longer than the session's maxAge ${sessionMaxAge} (the lifetime's, or else the maxAge option), which would end it first however active it is; set lifetime.maxAge at least as long`);
    }
    if (!browserSession) checkBrowserMaxAge("lifetime: the session's ", sessionMaxAge, idleTimeout || this.#idle);
    if (maxAge > this.#ceiling || idleTimeout > this.#ceiling) {
      throw new RangeError(`cookiesession: lifetime ${Math.max(maxAge, idleTimeout)} s is beyond maxLifetime ${this.#ceiling}, which would cut the session to it; set the maxLifetime option (as Go's Options.MaxLifetime) at least as long`);
    }
  }

  /**
   * Set-Cookie values that expire the first `sent` chunks (at least the
   * first; without it, all of them). Max-Age=0 comes after Path and Domain, where net/http's
   * Cookie.String puts it in the lines Go's Manager writes to clear a
   * cookie (a sealed line has Max-Age first, as Go's Manager writes it).
   */
  clear(sent = this.#names.length) {
    checkSent(sent);
    return this.#names.slice(0, Math.max(sent, 1)).map((n) => `${n}=${this.#attrs.scope}; Max-Age=0${this.#attrs.flags}`);
  }
}

// checkBrowserMaxAge refuses a persistent cookie whose Max-Age can pass
// what browsers keep, as Go's: an idle timeout over 400 days (each refresh
// writes the cookie for at most that long), or, with none, a maxAge over
// 400 days (the cookie is written at login and again only on a change).
// The durations are seconds, and a longer one is most often
// express-session's milliseconds. what leads the message.
function checkBrowserMaxAge(what, maxAge, idleTimeout) {
  const limit = `${BROWSER_MAX_AGE} (400 days)`;
  const units = "; durations here are seconds: for express-session's milliseconds, divide by 1000";
  if (idleTimeout > BROWSER_MAX_AGE) {
    throw new RangeError(`cookiesession: ${what}idleTimeout ${idleTimeout} s is ${days(idleTimeout)}, longer than browsers keep a cookie: each refresh would write a Max-Age past 400 days, which they cut to 400 days without a word (RFC 6265bis; Chrome since M104); set an idleTimeout of at most ${limit}, and a maxAge as long as the session may last${units}`);
  }
  if (idleTimeout === 0 && maxAge > BROWSER_MAX_AGE) {
    throw new RangeError(`cookiesession: ${what}maxAge ${maxAge} s is ${days(maxAge)}, and with no idleTimeout the cookie's Max-Age passes 400 days, which browsers cut to 400 days without a word (RFC 6265bis; Chrome since M104): a user whose session does not change would be signed out then; set an idleTimeout of at most ${limit} beside this maxAge (each refresh writes the cookie again, so an active user stays signed in for the whole maxAge), or a maxAge of at most ${limit}${units}`);
  }
}

// days renders seconds in days, as Go's: "730 days", or "more than 400
// days" for a part of a day more.
const days = (seconds) => `${seconds % 86400 === 0 ? '' : 'more than '}${Math.floor(seconds / 86400)} days`;

// setName is the cookie name a Set-Cookie line sets, trimmed as browsers
// trim it.
const setName = (line) => trimASCIISpace(line.split(';')[0].slice(0, Math.max(line.split(';')[0].indexOf('='), 0)));

// checkLines refuses what is not an array of Set-Cookie lines (the
// Headers object, one line joined from several), which would read as
// setting nothing, without a word; what says what to give instead.
function checkLines(lines, what) {
  if (!Array.isArray(lines) || !lines.every((line) => typeof line === 'string')) throw new TypeError(`cookiesession: ${what}, an array of strings`);
  return lines;
}

// checkSent refuses a sent that is not a count of chunks (the Cookie
// header itself, NaN), which would clear no chunk without a word.
function checkSent(sent) {
  if (!Number.isInteger(sent) || sent < 0) throw new TypeError('cookiesession: sent is the number of chunks the request held: pass chunksSent(cookieHeader)');
}

// parts yields [name, value] for each cookie of the Cookie header lines
// (a string or an array of strings), split and trimmed as Go's Manager
// splits them (see SessionCookies.#cookies).
function* parts(cookieHeader) {
  for (const line of cookieHeader == null ? [] : [cookieHeader].flat()) {
    for (const part of line.split(';')) {
      const trimmed = trimASCIISpace(part);
      const eq = trimmed.indexOf('=');
      yield eq < 0 ? [trimmed, ''] : [trimASCIISpace(trimmed.slice(0, eq)), trimmed.slice(eq + 1)];
    }
  }
}

// read takes, for each chunk name, the first of its cookies (steps 2 and
// 3: a later one with that name is ignored), and notes whether a later one
// had another value: one that repeats the first's is the same cookie (a
// Lambda function URL's event carries each cookie twice).
function read(cookies) {
  const values = [];
  let shadowed = false;
  for (const [i, value] of cookies) {
    if (!(i in values)) values[i] = value;
    else if (values[i] !== value) shadowed = true;
  }
  return { values, shadowed };
}

// MAX_SHADOWS bounds how many cookies of each chunk name step 5 tries past
// the first, and how many of the last it tries too, as Go's maxShadows: a
// browser sends one per domain and path that match, longer paths first,
// so a sibling host can put one before the session's own per parent path
// of a deep page but only one per parent domain after it, and a hand-made
// request with thousands of them costs a few opens.
const MAX_SHADOWS = 4;

// MAX_SHADOW_OPENS bounds the tokens step 5 opens, as Go's maxShadowOpens.
const MAX_SHADOW_OPENS = 2 * (1 + 2 * MAX_SHADOWS);

// shadowSets is Go's: for each chunk name, [value, length in bytes] of its
// cookies in header order (every value of the base name, the non-empty
// ones of the others), the first 1 + MAX_SHADOWS of them then the last
// MAX_SHADOWS of the others.
function shadowSets(cookies, n) {
  const all = Array.from({ length: n }, () => []);
  for (const [i, value] of cookies) {
    if (i === 0 || value !== '') all[i].push(value);
  }
  return all.map((values) => {
    const kept = values.slice(0, 1 + MAX_SHADOWS).concat(values.slice(1 + MAX_SHADOWS).slice(-MAX_SHADOWS));
    return kept.map((value) => [value, headerBytes(value).length]);
  });
}

// trimASCIISpace is Go's textproto.TrimString, which net/http and Go's
// Manager apply to cookies: it trims space, tab, CR and LF, and nothing
// else (not VT, FF, NEL or NBSP, which unicode.IsSpace also counts).
function trimASCIISpace(s) {
  let start = 0;
  let end = s.length;
  while (start < end && isASCIISpace(s.charCodeAt(start))) start++;
  while (end > start && isASCIISpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

const isASCIISpace = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

// attributes renders the attributes after the value (and Max-Age) in the
// order net/http writes them, with Go's defaults: Path=/, HttpOnly,
// Secure, SameSite=Lax. They come in two parts, scope (Path and Domain)
// and flags (the rest), since a line that clears a cookie has Max-Age=0
// between them. The options are checked as Go's New checks them.
// chunkCaps returns each chunk's value capacity, as Go's New does: the
// cookie size less its name, and for a Partitioned cookie within the
// 10,240 bytes Chromium keeps of a site's Partitioned cookies in all (the
// first chunk would be evicted). It refuses a configuration whose full
// chunks' Set-Cookie lines pass the 262,144 bytes of response header
// Chromium reads: it fails the whole response.
function chunkCaps(names, maxCookieSize, attrs, partitioned) {
  let budget = PARTITION_BYTES;
  let lines = 0;
  const attrText = attrs.scope.length + attrs.flags.length;
  const caps = names.map((n) => {
    const len = utf8.encode(n).length;
    let cap = maxCookieSize - len;
    if (cap < 1) {
      throw new RangeError(`cookiesession: maxCookieSize ${maxCookieSize} leaves no room for a value beside the cookie name ${JSON.stringify(n)}: raise it, or shorten name`);
    }
    if (partitioned) {
      cap = Math.max(Math.min(cap, budget - len), 0);
      budget -= len + cap;
    }
    // "Set-Cookie: name=value; Max-Age=34560000" (400 days, the most), the attributes and the CRLF.
    if (cap > 0) lines += 'Set-Cookie: '.length + len + 1 + cap + '; Max-Age=34560000'.length + attrText + 2;
    return cap;
  });
  if (lines > RESPONSE_HEADER_BYTES) {
    throw new RangeError(`cookiesession: maxChunks ${names.length} of maxCookieSize ${maxCookieSize} makes a full session's Set-Cookie lines take up to ${lines} bytes, more than the ${RESPONSE_HEADER_BYTES} bytes of response header Chromium reads: it fails the whole response; lower maxChunks, and keep large data in your database`);
  }
  return caps;
}

// browserPath returns a printable ASCII path as browsers send it, as Go's does: a space, ", <, >, ^,
// `, { and } percent-encoded, an escaped letter, digit, -, ., _ or ~ unescaped (as Chrome does), the
// rest, another escape among them, as written.
function browserPath(path) {
  return path.replace(/[ "<>^`{}]|%([0-9A-Fa-f]{2})/g, (m, hex) => {
    if (hex === undefined) return `%${m.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m;
  });
}

function attributes(name, { path = '/', domain = '', secure = true, httpOnly = true, sameSite = 'lax', partitioned = false }) {
  // Object.hasOwn: SAME_SITE.constructor is a function, which would be written as the attribute.
  const sameSiteText = Object.hasOwn(SAME_SITE, String(sameSite).toLowerCase()) ? SAME_SITE[String(sameSite).toLowerCase()] : undefined;
  if (sameSiteText === undefined) throw new RangeError(`cookiesession: sameSite must be lax, strict or none`);
  if (typeof name !== 'string') throw new TypeError('cookiesession: name must be a string, such as "session"');
  if (!/^[\x21-\x7e]+$/.test(name) || /[()<>@,;:\\"/[\]?={}]/.test(name)) throw new RangeError(`cookiesession: name ${JSON.stringify(name)} is not a cookie name net/http writes: use letters, digits and !#$%&'*+-.^_\`|~ only (an RFC 6265 token, without the : / @ [ ] express-session's cookie module also takes)`);
  if (typeof path !== 'string' || typeof domain !== 'string') throw new TypeError('cookiesession: path and domain must be strings');
  if (path === '') path = '/'; // Go's default for an empty Path
  if (domain !== '' && !validCookieDomain(domain)) {
    throw new RangeError(`cookiesession: domain ${JSON.stringify(domain)} is not a cookie domain: give a bare host name such as example.com, without scheme, port or path, or leave it empty for a host-only cookie`);
  }
  if (domain.endsWith('.')) {
    // As Go's New: example.com. is another host than example.com, and Chrome and Firefox drop the cookie.
    throw new RangeError(`cookiesession: domain ${JSON.stringify(domain)} ends in a dot, and browsers drop such a cookie for a host without one: leave the dot out`);
  }
  const badPathByte = [...utf8.encode(path)].find((b) => b < 0x20 || b >= 0x7f || b === 0x3b);
  if (badPathByte !== undefined) {
    throw new RangeError(`cookiesession: path ${JSON.stringify(path)} holds the byte 0x${badPathByte.toString(16).padStart(2, '0')}: a cookie path is printable ASCII without ";"`);
  }
  if (!path.startsWith('/')) throw new RangeError(`cookiesession: path ${JSON.stringify(path)} must start with /`);
  // As Go's New: browsers match the path against the request path as they send it, percent-encoded,
  // and no request path holds ?, # or a backslash (sent as /), nor, in every browser, | (Chrome
  // sends %7C): such a cookie would never come back.
  const unmatched = /[?#\\|]/.exec(path)?.[0];
  if (unmatched === '|') {
    throw new RangeError(`cookiesession: path ${JSON.stringify(path)} holds "|", which Chrome sends as %7C and Firefox and Safari as it is: no path matches both, and the cookie would not come back in one of them; leave it out of the path`);
  }
  if (unmatched !== undefined) {
    throw new RangeError(`cookiesession: path ${JSON.stringify(path)} holds ${JSON.stringify(unmatched)}, which no request path holds (it starts the query or the fragment, or browsers send it as /): the cookie would never come back; give the path alone`);
  }
  const sent = browserPath(path);
  if (`${sent}/`.includes('/./') || `${sent}/`.includes('/../')) {
    throw new RangeError(`cookiesession: path ${JSON.stringify(path)} holds a . or .. segment, which browsers resolve before they send the path: the cookie would never come back; write the path without it`);
  }
  if (sent !== path) {
    throw new RangeError(`cookiesession: path ${JSON.stringify(path)} is sent by browsers as ${JSON.stringify(sent)}, and they match the path against the path as sent: the cookie would never come back; write ${JSON.stringify(sent)}`);
  }
  // RFC 6265bis: browsers ignore a longer attribute, and the cookie would apply elsewhere.
  if (utf8.encode(path).length > 1024 || domain.length > 1024) throw new RangeError('cookiesession: path or domain longer than 1024 bytes, which browsers ignore: shorten it');
  // Browsers match the prefixes in any case (RFC 6265bis), as Go's New does.
  const prefix = name.slice(0, 9).toLowerCase();
  if (prefix.startsWith('__host-') && (!secure || path !== '/' || domain !== '')) {
    throw new RangeError('cookiesession: a __Host- cookie needs secure, path "/" and no domain');
  }
  if (prefix === '__secure-' && !secure) throw new RangeError('cookiesession: a __Secure- cookie needs secure');
  const lower = name.toLowerCase();
  if ((lower.startsWith('__http-') || lower.startsWith('__host-http-')) && (!secure || !httpOnly)) {
    throw new RangeError('cookiesession: an __Http- or __Host-Http- cookie needs secure and httpOnly');
  }
  if ((sameSiteText === 'None' || partitioned) && !secure) throw new RangeError('cookiesession: SameSite=None and Partitioned need secure');
  let scope = `; Path=${path}`;
  // net/http writes a Domain without its leading dot, which browsers ignore.
  if (domain) scope += `; Domain=${domain.startsWith('.') ? domain.slice(1) : domain}`;
  let flags = '';
  if (httpOnly) flags += '; HttpOnly';
  if (secure) flags += '; Secure';
  flags += `; SameSite=${sameSiteText}`;
  if (partitioned) flags += '; Partitioned';
  return { scope, flags };
}

// validCookieDomain accepts what net/http's Cookie.Valid accepts as a
// Domain: a host name of letters, digits, "-" and "." (an optional leading
// dot, labels of 1 to 63 bytes, none starting or ending with "-", at least
// one letter, 255 bytes in all), or an IPv4 address.
function validCookieDomain(domain) {
  return isCookieDomainName(domain) || IPV4.test(domain);
}

const IPV4_FIELD = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_FIELD}(?:\\.${IPV4_FIELD}){3}$`);

function isCookieDomainName(s) {
  if (s.length === 0 || s.length > 255) return false;
  if (s[0] === '.') s = s.slice(1);
  let last = '.';
  let letter = false;
  let partLen = 0;
  for (const c of s) {
    if (/[a-zA-Z]/.test(c)) {
      letter = true;
      partLen++;
    } else if (/[0-9]/.test(c)) {
      partLen++;
    } else if (c === '-') {
      if (last === '.') return false;
      partLen++;
    } else if (c === '.') {
      if (last === '.' || last === '-' || partLen === 0 || partLen > 63) return false;
      partLen = 0;
    } else {
      return false;
    }
    last = c;
  }
  return last !== '-' && partLen <= 63 && letter;
}
