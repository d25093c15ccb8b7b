// The key ring's text form (FORMAT.md section 6), parsed as strictly as Go's
// ParseKeyRing: the same inputs are accepted and refused.

import { decodeBase64 } from './base64.js';
import { readJSON } from './json.js';
import { formatUnix } from './values.js';

const MAX_KEYS = 256;
const KEY_SIZE = 32;
const utf8 = new TextEncoder();

/** A key ring: the keys that open tokens, and which one seals when. */
export class KeyRing {
  #keys; // Map id -> {id, secret, promoteAt (ns BigInt) | null}
  #primary;
  #scheduled; // keys with a promotion time, by ascending time (stable)

  constructor(keys, primary) {
    this.#keys = new Map(keys.map((k) => [k.id, k]));
    this.#primary = primary;
    this.#scheduled = keys.filter((k) => k.promoteAt !== null).sort((a, b) => (a.promoteAt < b.promoteAt ? -1 : a.promoteAt > b.promoteAt ? 1 : 0));
    Object.freeze(this);
  }

  /** The ids of the ring's keys, as numbers. */
  get ids() {
    return [...this.#keys.keys()];
  }

  /** The id of the key that seals at `now`: the latest scheduled promotion that has come, else the primary. */
  primaryAt(now = new Date()) {
    const nowNs = BigInt(now.getTime()) * 1_000_000n;
    let id = this.#primary;
    for (const k of this.#scheduled) {
      if (nowNs < k.promoteAt) break;
      id = k.id;
    }
    return id;
  }

  /** The secret of key id, or undefined. For the codec only. */
  secret(id) {
    return this.#keys.get(id)?.secret;
  }

  /** Never shows a secret. */
  toString() {
    return `KeyRing(primary ${formatKeyID(this.#primary)}, keys ${this.ids.map(formatKeyID).join(' ')})`;
  }

  toJSON() {
    return this.toString();
  }
}

export const formatKeyID = (id) => id.toString(16).padStart(8, '0');

/** Parses the ring's text form: a string or UTF-8 bytes. Throws on anything Go refuses. */
export function parseKeyRing(text) {
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  let parsed;
  try {
    parsed = readJSON(bytes, { build: true, allowTrailing: true });
  } catch (err) {
    throw new Error(`cookiesession: parsing key ring: ${err.message}`);
  }
  if (!trailingIsSpace(bytes.subarray(parsed.end))) throw new Error('cookiesession: parsing key ring: data after the JSON object');
  const ring = decodeStruct(parsed.value, RING_FIELDS, 'key ring');
  if (ring.version !== 1) throw new Error(`cookiesession: key ring version ${ring.version} is not supported (want 1)`);
  const keysJSON = ring.keys ?? [];
  if (keysJSON.length > MAX_KEYS) throw new Error(`cookiesession: key ring has ${keysJSON.length} keys, more than ${MAX_KEYS}`);
  const primary = parseKeyID(ring.primary ?? '', ' (primary)');
  const keys = keysJSON.map(parseKey);
  checkRing(keys, primary);
  return new KeyRing(keys, primary);
}

// Go reads the ring with encoding/json into a struct, and so does this:
// field names match case-insensitively (Go's folding), unknown fields are
// refused, a repeated field is decoded again over the first (a repeated
// "keys" array decodes element by element into the earlier elements), and
// null leaves a string or int as it was and empties the keys.
const RING_FIELDS = { version: 'int', primary: 'string', keys: 'keys' };
const KEY_FIELDS = { id: 'string', secret: 'string', promote_at: 'string' };

function decodeStruct(node, fields, what, into = {}) {
  if (isNull(node)) return into;
  if (node.kind !== 'object') throw new Error(`cookiesession: parsing key ring: cannot read a JSON ${node.kind} as the ${what}`);
  for (const [name, value] of node.fields) {
    const field = Object.keys(fields).find((f) => foldName(f) === foldName(name));
    if (field === undefined) throw new Error(`cookiesession: parsing key ring: unknown field ${JSON.stringify(name)}`);
    into[field] = decodeField(value, fields[field], field, into[field]);
  }
  return into;
}

const isNull = (node) => node.kind === 'literal' && node.text === 'null';

function decodeField(node, kind, field, prev) {
  if (isNull(node)) return kind === 'keys' ? undefined : prev;
  const bad = () => new Error(`cookiesession: parsing key ring: field ${field} cannot be a JSON ${node.kind}`);
  switch (kind) {
    case 'int':
      // Go's int takes only an integer literal: no fraction, no exponent.
      if (node.kind !== 'number' || !/^-?\d+$/.test(node.text)) throw bad();
      return Number(node.text);
    case 'string':
      if (node.kind !== 'string') throw bad();
      return node.text;
    case 'keys':
      if (node.kind !== 'array') throw bad();
      return node.items.map((item, i) => decodeStruct(item, KEY_FIELDS, 'key', prev?.[i] ?? {}));
  }
  throw bad();
}

// foldName is Go's encoding/json name folding: each rune becomes the
// smallest rune of its simple case-folding orbit. The only non-ASCII runes
// whose orbit holds an ASCII letter are long s and the Kelvin sign.
const FOLD_SPECIAL = { '\u017f': 'S', '\u212a': 'K' };

function foldName(name) {
  let out = '';
  for (const ch of name) out += FOLD_SPECIAL[ch] ?? (ch < '\u0080' ? ch.toUpperCase() : ch);
  return out;
}

// Go trims what follows the object with bytes.TrimSpace: Unicode white space.
function trailingIsSpace(bytes) {
  const text = new TextDecoder().decode(bytes);
  return [...text].every((ch) => isGoSpace(ch.codePointAt(0)));
}

/** unicode.IsSpace of Go. */
export function isGoSpace(c) {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function parseKeyID(s, where = '') {
  if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new Error(`cookiesession: key id of ${[...utf8.encode(s)].length} characters is not 8 hex digits${where}`);
  const id = parseInt(s, 16);
  if (id === 0) throw new Error(`cookiesession: key id ${s} is reserved${where}`);
  return id;
}

function parseKey(k) {
  const id = parseKeyID(k.id ?? '');
  let secret;
  try {
    secret = decodeBase64(utf8.encode(k.secret ?? ''), true);
  } catch {
    throw new Error(`cookiesession: key ${k.id}: secret is not standard base64`);
  }
  if (secret.length !== KEY_SIZE) throw new Error(`cookiesession: key ${k.id}: key secret is ${secret.length} bytes, want ${KEY_SIZE}`);
  let promoteAt = null;
  if (k.promote_at !== undefined && k.promote_at !== '') {
    promoteAt = parseRFC3339(k.promote_at);
    if (promoteAt === null) throw new Error(`cookiesession: key ${k.id}: promote_at is not an RFC 3339 time`);
  }
  return { id, secret, promoteAt };
}

function checkRing(keys, primary) {
  if (keys.length === 0) throw new Error('cookiesession: key ring has no keys');
  const seen = new Set();
  for (const k of keys) {
    if (seen.has(k.id)) throw new Error(`cookiesession: duplicate key id ${formatKeyID(k.id)}`);
    seen.add(k.id);
    if (k.id === primary && k.promoteAt !== null) throw new Error(`cookiesession: primary key ${formatKeyID(k.id)} cannot have a promotion time`);
    if (k.promoteAt !== null && (k.promoteAt < YEAR_1_NS || k.promoteAt >= YEAR_10000_NS)) {
      throw new Error(`cookiesession: key ${formatKeyID(k.id)}: promotion time is outside years 1 to 9999 UTC`);
    }
  }
  if (!seen.has(primary)) throw new Error(`cookiesession: primary key ${formatKeyID(primary)} is not in the ring`);
}

const YEAR_1_NS = -62135596800n * 1_000_000_000n;
const YEAR_10000_NS = 253402300800n * 1_000_000_000n;

// parseRFC3339 accepts what Go's time.Parse(time.RFC3339Nano, s) accepts
// and returns unix nanoseconds, or null. Go's general parser is a little
// wider than RFC 3339: a one-digit hour, a comma before the fraction, any
// number of fraction digits (past nine ignored), and zone offsets up to
// 24:60.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function parseRFC3339(s) {
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || min > 59 || sec > 59) return null;
  let offset = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 24 || om > 60) return null;
    offset = (m[8] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const days = BigInt(daysFromCivil(year, month, day));
  const secs = days * 86400n + BigInt(hour * 3600 + min * 60 + sec - offset);
  return secs * 1_000_000_000n + BigInt(frac);
}

function daysIn(year, month) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
