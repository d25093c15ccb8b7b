// Sealing and opening tokens: wire format v1 (FORMAT.md sections 1 to 3).

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Base64Error, decodeBase64, encodeBase64URL } from './base64.js';
import { formatKeyID, KeyRing } from './keyring.js';
import { formatUnix, Values, ValuesError } from './values.js';

const VERSION = 0x01;
const HEADER = 5;
const NONCE = 24;
const TAG = 16;
const PLAIN_HEADER = 32;
/** The length of the shortest valid token: an empty session. */
export const MIN_TOKEN_LEN = 104;
const CLOCK_SKEW = 60n;
const MAX_TIME = 1n << 62n;
const utf8 = new TextEncoder();

/**
 * Why a token was refused, or a session could not be sealed. kind is
 * 'invalid', 'unknown_key' (also a kind of invalid), 'expired' or
 * 'too_large'; reason is the Go implementation's wording.
 */
export class SessionError extends Error {
  constructor(kind, reason, keyId = 0) {
    super(`cookiesession: ${reason}`);
    this.name = 'SessionError';
    this.kind = kind;
    this.reason = reason;
    this.keyId = keyId;
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

function checkSeconds(name, value, min) {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`cookiesession: ${name} must be a whole number of seconds, at least ${min}`);
  return BigInt(value);
}

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
  #maxLen;

  constructor(ring, { name, maxAge = 86400, idleTimeout = 0, maxTokenLen = 4096 } = {}) {
    if (!(ring instanceof KeyRing)) throw new TypeError('cookiesession: Codec needs a KeyRing from parseKeyRing');
    if (typeof name !== 'string' || name === '') throw new TypeError('cookiesession: codec needs a cookie name');
    this.#ring = ring;
    this.#name = utf8.encode(name);
    this.#maxAge = checkSeconds('maxAge', maxAge, 1);
    this.#idle = idleTimeout === 0 ? 0n : checkSeconds('idleTimeout', idleTimeout, 1);
    if (!Number.isSafeInteger(maxTokenLen) || maxTokenLen < MIN_TOKEN_LEN) {
      throw new RangeError(`cookiesession: maxTokenLen ${maxTokenLen} cannot hold an empty session (${MIN_TOKEN_LEN})`);
    }
    this.#maxLen = maxTokenLen;
  }

  /** The limit on a token's length. */
  get maxTokenLen() {
    return this.#maxLen;
  }

  /**
   * Opens token as of now and returns {id, created, expires, keyId,
   * values}. Throws a SessionError, checking in FORMAT.md's order.
   */
  open(token, now = new Date()) {
    const bytes = tokenBytes(token, this.#maxLen);
    if (bytes.length < MIN_TOKEN_LEN) throw new SessionError('invalid', `token of ${bytes.length} bytes is too short to be valid`);
    const raw = decodeToken(bytes);
    if (raw[0] !== VERSION) throw new SessionError('invalid', `unknown format version 0x${raw[0].toString(16).padStart(2, '0')}`);
    const keyId = new DataView(raw.buffer, raw.byteOffset).getUint32(1);
    const secret = this.#ring.secret(keyId);
    if (secret === undefined) throw new SessionError('unknown_key', `unknown key id ${formatKeyID(keyId)}`, keyId);
    let plain;
    try {
      plain = xchacha20poly1305(secret, raw.subarray(HEADER, HEADER + NONCE), this.#ad(raw)).decrypt(raw.subarray(HEADER + NONCE));
    } catch {
      throw new SessionError('invalid', 'authentication failed', keyId);
    }
    const record = this.#checkTimes(plain, keyId, secondsOf(now));
    try {
      record.values = Values.decode(plain.subarray(PLAIN_HEADER));
    } catch (err) {
      if (err instanceof ValuesError) throw new SessionError('invalid', err.message, keyId);
      throw err;
    }
    return record;
  }

  #ad(raw) {
    const ad = new Uint8Array(HEADER + this.#name.length);
    ad.set(raw.subarray(0, HEADER));
    ad.set(this.#name, HEADER);
    return ad;
  }

  #checkTimes(plain, keyId, nowSec) {
    const view = new DataView(plain.buffer, plain.byteOffset);
    const created = view.getBigUint64(0);
    const expires = view.getBigUint64(8);
    if (created > MAX_TIME || expires > MAX_TIME) throw new SessionError('invalid', 'timestamps out of range', keyId);
    if (created > nowSec + CLOCK_SKEW) {
      throw new SessionError('invalid', `session created in the future at ${formatUnix(created)}Z`, keyId);
    }
    if (expires <= nowSec) throw expired(keyId, expires, "the token's own deadline");
    if (created + this.#maxAge <= nowSec) {
      throw expired(keyId, created + this.#maxAge, `MaxAge ${durationText(this.#maxAge)} since creation`);
    }
    return { id: plain.slice(16, PLAIN_HEADER), created, expires, keyId, values: null };
  }

  /**
   * The deadline of a token sealed at nowSec for a session created at
   * created: min(created + maxAge, nowSec + idleTimeout).
   */
  expiry(created, nowSec) {
    const byAge = created + this.#maxAge;
    if (this.#idle === 0n) return byAge;
    const byIdle = nowSec + this.#idle;
    return byIdle < byAge ? byIdle : byAge;
  }

  /**
   * Seals record under the ring's primary key at now and returns the
   * token. Missing fields are filled in first, as Go does: a random id,
   * created = now, expires from the lifetimes; a given expires is kept.
   * Sets record.keyId. Throws a SessionError ('expired' or 'too_large').
   */
  seal(record, now = new Date()) {
    const nowSec = secondsOf(now);
    fill(record, nowSec, this);
    const values = (record.values ?? new Values()).encode();
    const rawLen = HEADER + NONCE + PLAIN_HEADER + values.length + TAG;
    const tokenLen = Math.ceil((rawLen * 8) / 6);
    if (tokenLen > this.#maxLen) {
      throw new SessionError('too_large', `session too large: token of ${tokenLen} bytes exceeds the limit of ${this.#maxLen}`);
    }
    const keyId = this.#ring.primaryAt(now);
    const raw = new Uint8Array(HEADER + NONCE);
    raw[0] = VERSION;
    new DataView(raw.buffer).setUint32(1, keyId);
    crypto.getRandomValues(raw.subarray(HEADER));
    const plain = new Uint8Array(PLAIN_HEADER + values.length);
    const view = new DataView(plain.buffer);
    view.setBigUint64(0, record.created);
    view.setBigUint64(8, record.expires);
    plain.set(record.id, 16);
    plain.set(values, PLAIN_HEADER);
    const sealed = xchacha20poly1305(this.#ring.secret(keyId), raw.subarray(HEADER), this.#ad(raw)).encrypt(plain);
    const out = new Uint8Array(raw.length + sealed.length);
    out.set(raw);
    out.set(sealed, raw.length);
    record.keyId = keyId;
    return encodeBase64URL(out);
  }
}

function fill(record, nowSec, codec) {
  if (!(record.id instanceof Uint8Array) || record.id.every((b) => b === 0)) {
    if (record.id !== undefined && !(record.id instanceof Uint8Array)) throw new TypeError('cookiesession: id must be a Uint8Array');
    record.id = crypto.getRandomValues(new Uint8Array(16));
  }
  if (record.id.length !== 16) throw new RangeError('cookiesession: id must be 16 bytes');
  record.created ??= nowSec;
  record.created = BigInt(record.created);
  if (record.created < 0n) throw new RangeError('cookiesession: session created before 1970');
  record.expires = record.expires === undefined ? codec.expiry(record.created, nowSec) : BigInt(record.expires);
  if (record.created > MAX_TIME || record.expires > MAX_TIME) throw new RangeError('cookiesession: times above 2^62 cannot be sealed');
  if (record.expires <= nowSec) throw expired(0, record.expires, "the record's Expires");
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
    throw new SessionError('invalid', `token of ${utf8.encode(token).length} bytes exceeds the limit of ${maxLen}`);
  }
  const bytes = utf8.encode(token);
  if (bytes.length > maxLen) throw new SessionError('invalid', `token of ${bytes.length} bytes exceeds the limit of ${maxLen}`);
  return bytes;
}

function decodeToken(bytes) {
  let raw;
  try {
    raw = decodeBase64(bytes, false);
  } catch (err) {
    if (err instanceof Base64Error) throw new SessionError('invalid', `bad encoding: ${err.message}`);
    throw err;
  }
  // The decoder skips CR and LF as Go's does; a token never holds them.
  if (raw.length !== Math.floor((bytes.length * 6) / 8) || bytes.length % 4 === 1) {
    const i = bytes.findIndex((c) => c === 0x0a || c === 0x0d);
    if (i >= 0) throw new SessionError('invalid', `bad encoding: byte 0x${bytes[i].toString(16).padStart(2, '0')} at offset ${i} is not base64url`);
    throw new SessionError('invalid', `bad encoding: ${bytes.length} characters is not a base64url length`);
  }
  return raw;
}
