// Sealing and opening tokens: wire format versions 1 and 2 (FORMAT.md
// sections 1 to 3). A session with a lifetime of its own is sealed as
// version 2, every other one as version 1.

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Base64Error, decodeBase64, encodeBase64URL } from './base64.js';
import { formatKeyID, KeyRing } from './keyring.js';
import { formatUnix, isPlainObject, kindOf, Values, ValuesError } from './values.js';

const VERSION = 0x01; // sessions with the default lifetime
const VERSION2 = 0x02; // sessions with a lifetime of their own
const HEADER = 5;
const NONCE = 24;
const TAG = 16;
const PLAIN_HEADER = 32;
const LIFETIME = 4 + 4 + 1; // version 2: max_age, idle, flags
const FLAG_BROWSER = 0x01;
const MAX_SECONDS = 2 ** 32 - 1; // the largest lifetime the wire's uint32 holds
/** The length of the shortest valid token: an empty session. */
export const MIN_TOKEN_LEN = 104;
const CLOCK_SKEW = 60n;
const MAX_TIME = 1n << 62n;
const utf8 = new TextEncoder();

/**
 * Why a token was refused, or a session could not be sealed. kind is
 * 'invalid', 'unknown_key' (also a kind of invalid), 'expired' or
 * 'too_large'; reason is the Go implementation's wording. keepCookie is
 * true where Go's Manager leaves the client's cookie as it is: a key the
 * ring lacks, or a token created in the future (sealed by an instance
 * whose clock runs ahead), opens elsewhere, or later; SessionCookies.open
 * also sets it for a header that carried two values under one name.
 */
export class SessionError extends Error {
  constructor(kind, reason, keyId = 0) {
    super(`cookiesession: ${reason}`);
    this.name = 'SessionError';
    this.kind = kind;
    this.reason = reason;
    this.keyId = keyId;
    this.keepCookie = kind === 'unknown_key' || reason.startsWith('session created in the future');
  }
}

/** Go's time.Duration.String for whole seconds. */
function durationText(seconds) {
  const h = seconds / 3600n;
  const m = (seconds / 60n) % 60n;
  const s = seconds % 60n;
  if (h > 0n) return `${h}h${m}m${s}s`;
  if (m > 0n) return `${m}m${s}s`;
  return `${s}s`;
}

const secondsOf = (date) => BigInt(Math.floor(date.getTime() / 1000));

function checkSeconds(name, value, min, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`cookiesession: ${name} must be a whole number of seconds from ${min} to ${max}`);
  }
  return BigInt(value);
}

/**
 * Refuses a member of obj (options, a lifetime) that is not among names,
 * and a boolean one (flags) that is not a boolean: JS would ignore a typo
 * such as maxage, or read 'false' as true, and the cookie would silently
 * differ from the one asked for. A member set to undefined counts as absent.
 */
export function checkMembers(what, obj, names, flags = []) {
  // A Map's (or an Array's) contents are not members: all would read as absent.
  if (!isPlainObject(obj)) throw new TypeError(`cookiesession: ${what} must be a plain object such as { ${names[0]}: ... }, not ${kindOf(obj)}`);
  for (const [name, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (!names.includes(name)) {
      const like = names.find((n) => n.toLowerCase() === name.toLowerCase());
      throw new TypeError(`cookiesession: ${what} has no member ${JSON.stringify(name)}${like ? `; the name is ${like}` : `; the members are ${names.join(', ')}`}`);
    }
    if (flags.includes(name) && typeof value !== 'boolean') throw new TypeError(`cookiesession: ${what}.${name} must be a boolean`);
  }
}

// opened holds the lifetimes open read, with their text then: one sealed
// again unchanged is cut to maxLifetime as Go cuts it (the ceiling may have
// been lowered since), while one the caller set is checked as Go's
// SetLifetime checks it (see SessionCookies.seal).
const opened = new WeakMap();
const lifetimeText = (l) => `${l.maxAge} ${l.idleTimeout} ${l.browserSession}`;

/**
 * What Go's Manager does with a session it read and did not change, at now:
 * 'expired' when the session has ended by now, 'refresh' when a rolling
 * refresh is due, 'rekey' when the token is under a key that no longer
 * seals, else null. For SessionCookies.refresh; set in
 * Codec's static block, which can read the lifetimes.
 */
export let resealDue;

// The deadline open or seal gave each record, and under its id, which a
// copy ({ ...record }) shares, every deadline they gave records of that
// id: the record's own or one a copy sealed may have moved since. A
// lifetime set since is sealed with its own deadline only while expires
// still holds such a one: a deadline the caller set is kept
// (SessionCookies.seal).
// Each deadline is kept with whether a lifetime of the session's own gave
// it (own): dropped since, the deadline is that lifetime's, not the
// options'.
const given = new WeakMap();
const giveDeadline = (record, own = record.lifetime != null) => {
  given.set(record, { expires: record.expires, own });
  if (record.id instanceof Uint8Array) given.set(record.id, (given.get(record.id) ?? new Map()).set(record.expires, own));
};

// givenDeadline returns {own} if record.expires is the one open or seal
// gave it or, for a copy, one they gave a record it copies; else undefined.
function givenDeadline(record) {
  if (record.expires === undefined) return undefined;
  if (given.has(record)) return given.get(record).expires === record.expires ? given.get(record) : undefined;
  const own = record.id instanceof Uint8Array ? given.get(record.id)?.get(record.expires) : undefined;
  return own === undefined ? undefined : { own };
}

/**
 * Reports whether record.expires is the one open or seal gave it or, for
 * a copy, one they gave a record it copies.
 */
export const expiresAsGiven = (record) => givenDeadline(record) !== undefined;

/**
 * Reports whether record.expires is one open or seal gave it (as
 * expiresAsGiven) under a lifetime of the session's own.
 */
export const expiresOfLifetime = (record) => givenDeadline(record)?.own === true;

// What open read, or seal wrote, for each record: refresh writes only a
// session unchanged since (a change it would send only when a refresh is
// due). The values are kept as the bytes, made canonical only when they
// differ from the record's encoding.
const saved = new WeakMap();
const save = (record, valueBytes) => {
  saved.set(record, {
    values: record.values, valueBytes, id: record.id.slice(), created: record.created,
    lifetime: record.lifetime === null ? null : lifetimeText(record.lifetime),
  });
  const token = { has: (record.values?.size ?? 0) > 0, lifetime: record.lifetime === null ? null : lifetimeText(record.lifetime) };
  held.set(record, token);
  held.set(record.id, token);
};

// What the token each record (and, by its id, a copy) was opened from or
// sealed into held: whether it had values, and its lifetime's text (null
// for none). A session left with no values since is expired by
// SessionCookies.seal, as Go's Manager expires one whose values a request
// deleted, while one that held none (a Lifetime set before any value) is
// not; a lifetime set since keeps it only if it is another than the
// token's, as Go's SetLifetime of the same one before the deletes (a
// middleware's, every request) does not.
const held = new WeakMap();

const heldOf = (record) => (held.has(record) ? held.get(record) : record.id instanceof Uint8Array ? held.get(record.id) : undefined);

/** Sets what heldValues reports for record and its id (SessionCookies.seal). */
export const setHeldValues = (record, has) => {
  const token = { ...heldOf(record), has };
  held.set(record, token);
  if (record.id instanceof Uint8Array) held.set(record.id, token);
};

/**
 * Reports whether the token record (or the record a copy was made from)
 * was opened from or sealed into held values; undefined when unknown (a
 * new record, or a structuredClone copy).
 */
export const heldValues = (record) => heldOf(record)?.has;

/**
 * Reports whether lifetime, checked (sealLifetime), is another than the
 * one the token record was opened from or sealed into held (true when that
 * is unknown).
 */
export const otherThanHeld = (record, lifetime) => (lifetime === null ? null : lifetimeText(lifetime)) !== heldOf(record)?.lifetime;

// changedSinceSaved reports whether record's values, id, created or
// lifetime differ from what open read or seal wrote; a record neither
// gave (a copy) is not known to have changed.
function changedSinceSaved(record) {
  const was = saved.get(record);
  if (was === undefined) return false;
  const lifetime = record.lifetime == null ? null : lifetimeText(record.lifetime);
  if (record.values !== was.values || record.created !== was.created || lifetime !== was.lifetime) return true;
  if (!(record.id instanceof Uint8Array) || !sameBytes(record.id, was.id)) return true;
  const now = (record.values ?? new Values()).encode();
  return !sameBytes(now, was.valueBytes) && !sameBytes(now, Values.decode(was.valueBytes).encode());
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Reports whether lifetime is one that open read, unchanged since. */
export const isOpened = (lifetime) => lifetime != null && opened.get(lifetime) === lifetimeText(lifetime);

/**
 * The lifetime to seal, checked: null for none (version 1), else
 * {maxAge, idleTimeout, browserSession} in whole seconds, 0 meaning the
 * codec's default. An all-zero lifetime is none, as in Go.
 */
export function sealLifetime(lifetime) {
  if (lifetime == null) return null;
  checkMembers('lifetime', lifetime, ['maxAge', 'idleTimeout', 'browserSession'], ['browserSession']);
  const { maxAge = 0, idleTimeout = 0, browserSession = false } = lifetime;
  checkSeconds('lifetime.maxAge', maxAge, 0, MAX_SECONDS);
  checkSeconds('lifetime.idleTimeout', idleTimeout, 0, MAX_SECONDS);
  return maxAge === 0 && idleTimeout === 0 && !browserSession ? null : { maxAge, idleTimeout, browserSession };
}

/** Reads version 2's max_age, idle and flags, as Go's readLifetime. */
function readLifetime(plain, keyId) {
  const view = new DataView(plain.buffer, plain.byteOffset);
  const flags = plain[PLAIN_HEADER + 8];
  if ((flags & ~FLAG_BROWSER) !== 0) {
    throw new SessionError('invalid', `unknown lifetime flags 0x${flags.toString(16).padStart(2, '0')}`, keyId);
  }
  const lifetime = { maxAge: view.getUint32(PLAIN_HEADER), idleTimeout: view.getUint32(PLAIN_HEADER + 4), browserSession: flags === FLAG_BROWSER };
  if (lifetime.maxAge === 0 && lifetime.idleTimeout === 0 && !lifetime.browserSession) {
    throw new SessionError('invalid', 'a version 2 token without a lifetime', keyId);
  }
  return lifetime;
}

// codecOfCookies builds the Codec of a SessionCookies, which checks the
// limits (maxLifetime against maxAge, idleTimeout against both) itself, as
// Go's New checks Options before NewCodec: in New's order and words, after
// the 400-day rule. Set in Codec's static block.
export let codecOfCookies;
const LIMITS_CHECKED = Symbol('limits checked');

/**
 * Codec seals records into tokens and opens tokens, bound to one cookie
 * name and one key ring, as Go's cookiesession.Codec. Times are whole unix
 * seconds as BigInt; lifetimes are given in seconds.
 */
export class Codec {
  #ring;
  #name;
  #maxAge;
  #idle;
  #ceiling; // maxLifetime: bounds every session's MaxAge and idle timeout
  #maxLen;

  static {
    resealDue = (codec, record, now, threshold) => codec.#resealDue(record, now, threshold);
    codecOfCookies = (ring, options) => new Codec(ring, options, LIMITS_CHECKED);
  }

  // limits is LIMITS_CHECKED only from codecOfCookies.
  constructor(ring, options = {}, limits = undefined) {
    if (!(ring instanceof KeyRing)) throw new TypeError('cookiesession: Codec needs a KeyRing from parseKeyRing');
    checkMembers('CodecOptions', options, ['name', 'maxAge', 'idleTimeout', 'maxLifetime', 'maxTokenLen']);
    const { name, maxAge = 86400, idleTimeout = 0, maxLifetime = maxAge, maxTokenLen = 4096 } = options;
    if (typeof name !== 'string' || name === '') throw new TypeError('cookiesession: codec needs a cookie name');
    this.#ring = ring;
    this.#name = utf8.encode(name);
    // Without a maxLifetime, maxAge is the ceiling too: it is named here,
    // with the ceiling's range, rather than a maxLifetime nobody set.
    this.#maxAge = checkSeconds('maxAge', maxAge, 1, options.maxLifetime === undefined ? MAX_SECONDS : undefined);
    this.#idle = idleTimeout === 0 ? 0n : checkSeconds('idleTimeout', idleTimeout, 1);
    this.#ceiling = checkSeconds('maxLifetime', maxLifetime, 1, MAX_SECONDS);
    if (!Number.isSafeInteger(maxTokenLen) || maxTokenLen < MIN_TOKEN_LEN) {
      throw new RangeError(`cookiesession: maxTokenLen ${maxTokenLen} cannot hold an empty session (${MIN_TOKEN_LEN})`);
    }
    this.#maxLen = maxTokenLen;
    if (limits !== LIMITS_CHECKED) checkLimits(this.#maxAge, this.#idle, this.#ceiling, options.maxLifetime === undefined ? 'maxAge' : 'maxLifetime');
  }

  /** The limit on a token's length. */
  get maxTokenLen() {
    return this.#maxLen;
  }

  /**
   * Opens token as of now and returns {id, created, expires, keyId,
   * lifetime, values}; lifetime is null for a version 1 token. Throws a
   * SessionError, checking in FORMAT.md's order.
   */
  open(token, now = new Date()) {
    checkDate(now);
    const bytes = tokenBytes(token, this.#maxLen);
    if (bytes.length < MIN_TOKEN_LEN) throw new SessionError('invalid', `token of ${bytes.length} bytes is too short to be valid`);
    const raw = decodeToken(bytes);
    if (raw[0] !== VERSION && raw[0] !== VERSION2) throw new SessionError('invalid', `unknown format version 0x${raw[0].toString(16).padStart(2, '0')}`);
    const keyId = new DataView(raw.buffer, raw.byteOffset).getUint32(1);
    const secret = this.#ring.secret(keyId);
    if (secret === undefined) throw new SessionError('unknown_key', `unknown key id ${formatKeyID(keyId)}`, keyId);
    let plain;
    try {
      plain = xchacha20poly1305(secret, raw.subarray(HEADER, HEADER + NONCE), this.#ad(raw)).decrypt(raw.subarray(HEADER + NONCE));
    } catch {
      throw new SessionError('invalid', 'authentication failed', keyId);
    }
    let valuesAt = PLAIN_HEADER;
    let lifetime = null;
    if (raw[0] === VERSION2) {
      valuesAt += LIFETIME;
      if (plain.length < valuesAt + 1) throw new SessionError('invalid', `plaintext of ${plain.length} bytes is too short for version 2`, keyId);
      lifetime = readLifetime(plain, keyId);
      opened.set(lifetime, lifetimeText(lifetime));
    }
    const record = this.#checkTimes(plain, keyId, secondsOf(now), lifetime);
    giveDeadline(record);
    try {
      record.values = Values.decode(plain.subarray(valuesAt));
    } catch (err) {
      if (err instanceof ValuesError) throw new SessionError('invalid', err.message, keyId);
      throw err;
    }
    save(record, plain.subarray(valuesAt));
    return record;
  }

  #ad(raw) {
    const ad = new Uint8Array(HEADER + this.#name.length);
    ad.set(raw.subarray(0, HEADER));
    ad.set(this.#name, HEADER);
    return ad;
  }

  #checkTimes(plain, keyId, nowSec, lifetime) {
    const view = new DataView(plain.buffer, plain.byteOffset);
    const created = view.getBigUint64(0);
    const expires = view.getBigUint64(8);
    if (created > MAX_TIME || expires > MAX_TIME) throw new SessionError('invalid', 'timestamps out of range', keyId);
    const { maxAge } = this.#limits(lifetime);
    if (created > nowSec + CLOCK_SKEW) {
      throw new SessionError('invalid', `session created in the future at ${formatUnix(created)}Z`, keyId);
    }
    if (expires <= nowSec) throw expired(keyId, expires, "the token's own deadline");
    if (created + maxAge <= nowSec) {
      const err = expired(keyId, created + maxAge, `MaxAge ${durationText(maxAge)} since creation`);
      const own = BigInt(lifetime?.maxAge ?? 0);
      // Go's reason, and what an edge built with other options than the
      // Go Manager cannot tell from a stale cookie: the option to set.
      if (own > maxAge && created + own > nowSec) {
        err.message += `; the session's own lifetime asks for MaxAge ${durationText(own)}, which the ceiling of ${maxAge} s cuts (the maxLifetime option, by default maxAge): set maxLifetime to the MaxLifetime of the Go Options that wrote it`;
      } else if (own === 0n && expires > created + maxAge) {
        err.message += `; the token's own deadline is ${formatUnix(expires)}Z, later: it was sealed under a longer MaxAge; set the maxAge option to the MaxAge of the Go Options that wrote it`;
      }
      throw err;
    }
    return { id: plain.slice(16, PLAIN_HEADER), created, expires, keyId, lifetime, values: null };
  }

  // #resealDue is Go's Manager.refreshDue, then its re-key rule: a refresh
  // is due when less than threshold of the idle window is left and a
  // re-seal would move the deadline, or when the deadline lies further
  // than the idle window (and the clock skew) allows, as for a token
  // sealed under a longer one; a re-key when the key that would seal it is
  // not the one it came under (see #sealKey).
  // First it cuts record.expires to created + the maxAge that applies, as
  // Go's Manager does when it loads a session: a lowered maxAge or
  // maxLifetime shortens the deadline the cookie is given.
  #resealDue(record, now, threshold) {
    const nowMs = BigInt(checkDate(now).getTime());
    if (typeof record?.created !== 'bigint' || typeof record.expires !== 'bigint' || !Number.isInteger(record.keyId)) {
      throw new TypeError('cookiesession: refresh takes a record open returned; seal a new session, or one you changed, with seal');
    }
    if (changedSinceSaved(record)) {
      // Sent only when a refresh is due, the change would be lost on most requests, without a word.
      throw new TypeError('cookiesession: refresh writes a session unchanged since open, and this record changed (its values, id, created or lifetime): write it with seal(record, now, sent), after record.expires = undefined');
    }
    const { maxAge, idle } = this.#limits(record.lifetime);
    const asGiven = givenDeadline(record);
    record.expires = minBig(record.expires, record.created + maxAge);
    if (asGiven) giveDeadline(record, asGiven.own);
    // Expired by this now (opened at an earlier one): Go's Manager, deciding
    // at one instant, would have refused the cookie.
    if (record.expires <= secondsOf(now)) return 'expired';
    if (idle > 0n) {
      const left = record.expires * 1000n - nowMs;
      if (left > (idle + CLOCK_SKEW) * 1000n) return 'refresh';
      const moves = this.#expiry(record.created, secondsOf(now), record.lifetime) > record.expires;
      if (Number(left) < Number(idle) * 1000 * threshold && moves) return 'refresh';
    }
    return this.#sealKey(record.keyId, now) === record.keyId ? null : 'rekey';
  }

  /**
   * The absolute lifetime and the idle timeout (0n: none) that apply to a
   * session with this lifetime (null: the defaults), both bounded by
   * maxLifetime, in seconds.
   */
  #limits(lifetime) {
    const ownAge = BigInt(lifetime?.maxAge ?? 0);
    const ownIdle = BigInt(lifetime?.idleTimeout ?? 0);
    const maxAge = minBig(ownAge || this.#maxAge, this.#ceiling);
    const idle = ownIdle || this.#idle;
    return { maxAge, idle: idle > 0n ? minBig(idle, this.#ceiling) : 0n };
  }

  /**
   * The deadline of a token sealed at nowSec for a session created at
   * created: min(created + maxAge, nowSec + idleTimeout), under the limits
   * that apply to lifetime.
   */
  #expiry(created, nowSec, lifetime) {
    const { maxAge, idle } = this.#limits(lifetime);
    const byAge = created + maxAge;
    return idle === 0n ? byAge : minBig(byAge, nowSec + idle);
  }

  /**
   * Seals record under the ring's primary key at now, or under the
   * incoming key it was opened with (see #sealKey), and returns the
   * token: version 2 if record.lifetime is set, else version 1. Missing
   * fields are filled in first, as Go does: a random id, created = now,
   * expires from the lifetimes; a given expires is kept. Sets
   * record.keyId, and record.lifetime to the checked lifetime or null.
   * Throws a SessionError ('expired' or 'too_large'), or a RangeError for
   * times no opener accepts: created before 1970 or more than 60 s after
   * now, created or expires above 2^62.
   */
  seal(record, now = new Date()) {
    const nowSec = secondsOf(checkDate(now));
    // A member seal does not know ({ value: v }) would be left out of the
    // token without a word.
    checkMembers('record', record, ['id', 'created', 'expires', 'keyId', 'lifetime', 'values']);
    if (record.values != null && !(record.values instanceof Values)) {
      throw new TypeError('cookiesession: record.values must be a Values (new Values().set(key, value)), as open gives it');
    }
    const asOpened = isOpened(record.lifetime);
    record.lifetime = sealLifetime(record.lifetime);
    if (asOpened) opened.set(record.lifetime, lifetimeText(record.lifetime));
    const expiresGiven = record.expires !== undefined;
    fill(record, nowSec, (created) => this.#expiry(created, nowSec, record.lifetime));
    // open ends the session at created + maxAge whatever expires says: a
    // record past that is refused here, as Go's Codec does, not sealed
    // into a token that fails to open.
    const { maxAge } = this.#limits(record.lifetime);
    if (record.created + maxAge <= nowSec) {
      throw expired(0, record.created + maxAge, `MaxAge ${durationText(maxAge)} since creation`);
    }
    // A new record (no keyId) that asks for more than open would give, as
    // Go's Codec.SealAt; an opened one is sealed as open read it, cut.
    if (!record.keyId) this.#checkAsked(record, expiresGiven, maxAge);
    const values = (record.values ?? new Values()).encode();
    const header = PLAIN_HEADER + (record.lifetime === null ? 0 : LIFETIME);
    const rawLen = HEADER + NONCE + header + values.length + TAG;
    const tokenLen = Math.ceil((rawLen * 8) / 6);
    if (tokenLen > this.#maxLen) {
      throw new SessionError('too_large', `session too large: token of ${tokenLen} bytes exceeds the limit of ${this.#maxLen}`);
    }
    const keyId = this.#sealKey(record.keyId, now);
    const raw = new Uint8Array(HEADER + NONCE);
    raw[0] = record.lifetime === null ? VERSION : VERSION2;
    new DataView(raw.buffer).setUint32(1, keyId);
    crypto.getRandomValues(raw.subarray(HEADER));
    const plain = new Uint8Array(header + values.length);
    const view = new DataView(plain.buffer);
    view.setBigUint64(0, record.created);
    view.setBigUint64(8, record.expires);
    plain.set(record.id, 16);
    if (record.lifetime !== null) {
      view.setUint32(PLAIN_HEADER, record.lifetime.maxAge);
      view.setUint32(PLAIN_HEADER + 4, record.lifetime.idleTimeout);
      plain[PLAIN_HEADER + 8] = record.lifetime.browserSession ? FLAG_BROWSER : 0;
    }
    plain.set(values, header);
    const sealed = xchacha20poly1305(this.#ring.secret(keyId), raw.subarray(HEADER), this.#ad(raw)).encrypt(plain);
    const out = new Uint8Array(raw.length + sealed.length);
    out.set(raw);
    out.set(sealed, raw.length);
    record.keyId = keyId;
    giveDeadline(record);
    save(record, values);
    return encodeBase64URL(out);
  }

  // #checkAsked refuses a new record whose lifetime is longer than
  // maxLifetime, or whose given expires is after created plus the maxAge
  // that applies (maxAge): open would end the token sooner than the record
  // says, a 30-day link dead after a day. Go's Codec.checkAsked.
  #checkAsked(record, expiresGiven, maxAge) {
    const ceiling = this.#ceiling;
    for (const name of ['maxAge', 'idleTimeout']) {
      const asked = BigInt(record.lifetime?.[name] ?? 0);
      if (asked > ceiling) {
        throw new RangeError(`cookiesession: record.lifetime.${name} ${asked} s is longer than the codec's maxLifetime ${ceiling} s, which would end the session first; raise the maxLifetime option (by default maxAge) to at least ${asked}`);
      }
    }
    const ageLimit = record.created + maxAge;
    if (!expiresGiven || record.expires <= ageLimit) return;
    const need = record.expires - record.created;
    let fix = record.lifetime?.maxAge ? `raise record.lifetime.maxAge to at least ${need}` : `set record.lifetime.maxAge (or the maxAge option) to at least ${need}`;
    if (need > ceiling) fix += ` and the maxLifetime option (now ${ceiling}) with it`;
    throw new RangeError(`cookiesession: record.expires ${formatUnix(record.expires)}Z is after created plus the session's maxAge of ${maxAge} s (${formatUnix(ageLimit)}Z), when open ends the token; ${fix}, or leave expires undefined for that end`);
  }

  // #sealKey returns the key that seals, at now, a record opened under key
  // openedUnder: that key again while it is incoming, its promote_at after
  // now by at most the clock-skew allowance; else the primary at now.
  // Instances' clocks differ by up to that much, so some already seal under
  // the incoming key: re-sealing their tokens under the outgoing one would
  // flip the cookie between the two. This is the rule of Go's Codec.SealAt
  // and Manager (ringState.incoming and Codec.sealKey in codec.go). A new
  // record has no keyId, and gets the primary.
  #sealKey(openedUnder, now) {
    const promoteAt = this.#ring.promoteAt(openedUnder);
    const nowNs = BigInt(now.getTime()) * 1_000_000n;
    if (promoteAt !== null && nowNs < promoteAt && promoteAt <= nowNs + CLOCK_SKEW * 1_000_000_000n) return openedUnder;
    return this.#ring.primaryAt(now);
  }
}

const minBig = (a, b) => (a < b ? a : b);

// checkLimits refuses, as Go's NewCodec and New do, a maxLifetime below
// maxAge, which would cut every session to it, and an idleTimeout that the
// ceiling (maxLifetime, by default maxAge) would always beat: it would never
// act (express-session's rolling cookie.maxAge ported as idleTimeout, maxAge
// left at its default of a day, is the equal case). ceilingName says which
// option set the ceiling.
function checkLimits(maxAge, idle, ceiling, ceilingName) {
  if (ceiling < maxAge) {
    throw new RangeError(`cookiesession: maxLifetime ${ceiling} is below maxAge ${maxAge}; it bounds the lifetimes sessions may ask for, so set it at least as long, or leave it unset for maxAge`);
  }
  if (idle > 0n && idle >= ceiling) {
    throw new RangeError(`cookiesession: idleTimeout ${idle} is not shorter than ${ceilingName} ${ceiling}, which would end every session first however active it is; raise ${ceilingName} above it, or leave idleTimeout 0`);
  }
}

function checkDate(now) {
  if (Object.prototype.toString.call(now) !== '[object Date]' || Number.isNaN(now.getTime())) throw new TypeError('cookiesession: now must be a valid Date, such as new Date()');
  return now;
}

function fill(record, nowSec, expiry) {
  if (record.id !== undefined) {
    if (!(record.id instanceof Uint8Array)) throw new TypeError('cookiesession: id must be a Uint8Array');
    // Checked before the zero test, so that a short zero id is refused, not replaced.
    if (record.id.length !== 16) throw new RangeError('cookiesession: id must be 16 bytes');
  }
  if (record.id === undefined || record.id.every((b) => b === 0)) record.id = crypto.getRandomValues(new Uint8Array(16));
  // undefined only: null is refused with how to have it set (unixSeconds).
  if (record.created === undefined) record.created = nowSec;
  record.created = unixSeconds('created', record.created);
  if (record.created < 0n) throw new RangeError('cookiesession: session created before 1970');
  // An expires filled in here is past only when the age limit is, which
  // seal reports as such, not as the caller's expires.
  const given = record.expires !== undefined;
  record.expires = given ? unixSeconds('expires', record.expires) : expiry(record.created);
  if (record.created > MAX_TIME || record.expires > MAX_TIME) {
    throw new RangeError(`cookiesession: times above 2^62 cannot be sealed: Created ${record.created}, Expires ${record.expires} (Unix seconds)`);
  }
  // open refuses a creation time beyond the clock skew at this now: refuse
  // it here, as Go's Codec does, not in a token that fails to open.
  if (record.created > nowSec + CLOCK_SKEW) {
    throw new RangeError(`cookiesession: session created in the future at ${formatUnix(record.created)}Z, more than ${CLOCK_SKEW} s after now (${formatUnix(nowSec)}Z)`);
  }
  if (given && record.expires <= nowSec) throw expired(0, record.expires, "the record's Expires");
}

// unixSeconds takes a time of the record, whole Unix seconds: BigInt()
// would take a Date as its milliseconds, and null as an error of its own.
function unixSeconds(name, value) {
  if (typeof value !== 'bigint' && !Number.isSafeInteger(value)) {
    const unset = value === null ? ` (to have it set anew, leave it undefined, or delete it, not null)` : '';
    throw new TypeError(`cookiesession: record.${name} must be whole Unix seconds, a bigint as open gives it${unset}`);
  }
  return BigInt(value);
}

function expired(keyId, at, which) {
  const error = new SessionError('expired', `session expired at ${formatUnix(at)}Z (${which})`, keyId);
  error.expiredAt = at;
  return error;
}

// tokenBytes checks the length limit before anything else, then gives the
// token as bytes: Go measures and decodes the token's UTF-8 bytes.
function tokenBytes(token, maxLen) {
  if (typeof token !== 'string') throw new TypeError('cookiesession: a token is a string');
  if (token.length > maxLen) {
    throw new SessionError('invalid', `token of ${headerBytes(token).length} bytes exceeds the limit of ${maxLen}`);
  }
  const bytes = headerBytes(token);
  if (bytes.length > maxLen) throw new SessionError('invalid', `token of ${bytes.length} bytes exceeds the limit of ${maxLen}`);
  return bytes;
}

/**
 * The bytes a header's text stands for. Node's http and fetch's Headers
 * give each byte of a header as one character (the Fetch standard's
 * isomorphic decoding), so a text of characters up to U+00FF is taken
 * byte for byte, and its lengths and offsets are Go's; any other text
 * (not read from a header) is taken as UTF-8.
 */
export function headerBytes(text) {
  // ASCII, as every token is, is the same either way: TextEncoder is faster.
  if (/^[\x00-\x7f]*$/.test(text) || /[^\x00-\xff]/.test(text)) return utf8.encode(text);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const GO_ESCAPES = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };

/** A byte below 0x80 as Go's %q writes a byte: a quoted rune literal. */
function goQuoteByte(b) {
  if (GO_ESCAPES[b] !== undefined) return `'${GO_ESCAPES[b]}'`;
  if (b < 0x20 || b === 0x7f) return `'\\x${b.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(b)}'`;
}

/**
 * The mistake and its fix after the decoder's words, as Go's
 * encodingError: a token carried in a header, a URL or a file comes back
 * padded, re-encoded, escaped, quoted, with a prefix, or cut short.
 */
function encodingCause(bytes, at) {
  if (!(at < bytes.length)) return '';
  const b = bytes[at];
  const q = goQuoteByte(b);
  if (b === 0x3d) return `: byte ${q} is padding, which a token never has (unpadded base64url): remove it`;
  if (b === 0x2b || b === 0x2f) return `: byte ${q} is standard base64, which a token is not (it has '-' and '_'): pass the token as Seal returned it`;
  if (b === 0x25) return `: byte ${q} begins a percent-escape, which a token never needs: unescape it once (url.QueryUnescape)`;
  if (B64URL.includes(String.fromCharCode(b))) return `: byte ${q} cannot end a token: it was cut short or its last character altered`;
  if (b >= 0x80) return ': a byte outside ASCII is not base64url: pass only the token';
  return `: byte ${q} is not base64url: pass only the token, without quotes, spaces or a prefix such as "Bearer "`;
}

function decodeToken(bytes) {
  let raw;
  try {
    raw = decodeBase64(bytes, false);
  } catch (err) {
    if (err instanceof Base64Error) throw new SessionError('invalid', `bad encoding: ${err.message}${encodingCause(bytes, err.offset)}`);
    throw err;
  }
  // The decoder skips CR and LF as Go's does; a token never holds them.
  if (raw.length !== Math.floor((bytes.length * 6) / 8) || bytes.length % 4 === 1) {
    const i = bytes.findIndex((c) => c === 0x0a || c === 0x0d);
    if (i >= 0) throw new SessionError('invalid', `bad encoding: byte 0x${bytes[i].toString(16).padStart(2, '0')} at offset ${i} is not base64url: a line break, as a file, an environment variable or a wrapped line leaves; trim it`);
    throw new SessionError('invalid', `bad encoding: ${bytes.length} characters is not a base64url length`);
  }
  return raw;
}
