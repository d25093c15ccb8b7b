// The typed values section (FORMAT.md section 4): Values, GoTime, and the
// canonical encoder and strict decoder.

import { inexactNumber, validJSON } from './json.js';

/** The tag of each Go type, by the Go type's name (FORMAT.md section 4). */
export const TAGS = Object.freeze({
  nil: 0x00, string: 0x01, '[]byte': 0x02, bool: 0x03,
  int: 0x04, int8: 0x05, int16: 0x06, int32: 0x07, int64: 0x08,
  uint: 0x09, uint8: 0x0a, uint16: 0x0b, uint32: 0x0c, uint64: 0x0d,
  float32: 0x0e, float64: 0x0f, 'time.Time': 0x10, 'time.Duration': 0x11,
  '[]string': 0x12, 'map[string]string': 0x13, 'json.RawMessage': 0x14,
});
const TYPES = Object.keys(TAGS);

// Integers that fit a JS number exactly travel as numbers; the 64-bit ones
// (and durations) as BigInt. [bytes, signed].
const SMALL_INTS = { int8: [1, true], int16: [2, true], int32: [4, true], uint8: [1, false], uint16: [2, false], uint32: [4, false] };
const BIG_INTS = { int: true, int64: true, 'time.Duration': true, uint: false, uint64: false };

const MAX_OFFSET = 86400;
// The first and last second of the years RFC 3339 writes, 0000 to 9999.
const YEAR_0 = -62167219200;
const YEAR_9999_END = 253402300799;
const utf8 = new TextEncoder();
const strictUTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A time.Time as the wire carries it: the instant (unix seconds, rounded
 * down, and nanoseconds) and the zone's offset east of UTC in seconds.
 */
export class GoTime {
  constructor(unix, nsec = 0, offset = 0) {
    // BigInt() would take a Date as its milliseconds, a string or a boolean as a number.
    if (typeof unix !== 'bigint' && !Number.isSafeInteger(unix)) {
      const date = kindOf(unix) === 'a Date' ? ': for a Date, use GoTime.fromDate(date)' : '';
      throw new TypeError(`cookiesession: GoTime takes whole Unix seconds as a bigint or a number, not ${typeof unix === 'number' ? unix : kindOf(unix)}${date}`);
    }
    // A number past the years RFC 3339 writes is most often milliseconds (Date.now()), year 57000 as seconds.
    if (typeof unix === 'number' && (unix < YEAR_0 || unix > YEAR_9999_END)) {
      throw new RangeError(`cookiesession: GoTime takes Unix seconds, and ${unix} s is past the years 0 to 9999: for milliseconds (Date.now(), date.getTime()), use GoTime.fromDate(new Date(ms)); for such a time, give a bigint`);
    }
    this.unix = BigInt(unix);
    this.nsec = nsec;
    this.offset = offset;
    if (this.unix < -(2n ** 63n) || this.unix >= 2n ** 63n) throw new RangeError('cookiesession: time seconds outside int64');
    if (!Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) throw new RangeError(`cookiesession: nanoseconds ${nsec} must be a whole number from 0 to 999999999`);
    if (!Number.isInteger(offset) || offset <= -MAX_OFFSET || offset >= MAX_OFFSET) {
      throw new RangeError(`cookiesession: zone offset ${offset} out of range`);
    }
    Object.freeze(this);
  }

  /** The time of a Date (milliseconds), at the given offset (default UTC). */
  static fromDate(date, offset = 0) {
    if (kindOf(date) !== 'a Date') throw new TypeError(`cookiesession: GoTime.fromDate takes a Date, not ${kindOf(date)}`);
    if (Number.isNaN(date.getTime())) throw new RangeError('cookiesession: an invalid Date has no instant');
    const ms = BigInt(date.getTime());
    const sec = ms >= 0n ? ms / 1000n : -((-ms + 999n) / 1000n);
    return new GoTime(sec, Number(ms - sec * 1000n) * 1e6, offset);
  }

  /** The instant as a Date, which keeps milliseconds only; a RangeError beyond a Date's ±8.64e15 ms. */
  toDate() {
    const date = new Date(Number(this.unix) * 1000 + Math.floor(this.nsec / 1e6));
    if (Number.isNaN(date.getTime())) throw new RangeError(`cookiesession: ${this} is beyond the range of a Date`);
    return date;
  }

  equals(other) {
    return other instanceof GoTime && other.unix === this.unix && other.nsec === this.nsec && other.offset === this.offset;
  }

  /**
   * Only String(t) and `${t}` convert a GoTime. Without this, t < date and
   * t - date read NaN (false both ways), two GoTimes compared their text,
   * and new Date(t) parsed toString(): another instant at an offset with
   * seconds (Go's zones before 1900 or so), an Invalid Date past 9999.
   */
  [Symbol.toPrimitive](hint) {
    if (hint === 'string') return this.toString();
    throw new TypeError('cookiesession: a GoTime is not a Date nor a number: for new Date(t), < or arithmetic, use t.toDate() (to the millisecond) or t.unix and t.nsec; String(t) gives its text');
  }

  /** RFC 3339 with nanoseconds and the offset, as Go's time.RFC3339Nano. */
  toString() {
    const local = this.unix + BigInt(this.offset);
    let text = formatUnix(local);
    if (this.nsec) text += '.' + String(this.nsec).padStart(9, '0').replace(/0+$/, '');
    if (this.offset === 0) return text + 'Z';
    const abs = Math.abs(this.offset);
    const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
    const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
    return text + (this.offset < 0 ? '-' : '+') + hh + ':' + mm;
  }
}

// exactText writes n as the number it is: -0 with its sign, and an integer
// past 2^53 with all its digits, where String(2 ** 60) gives
// 1152921504606847000, another integer.
const exactText = (n) => (Object.is(n, -0) ? '-0' : Number.isInteger(n) ? String(BigInt(n)) : String(n));

/** Formats whole unix seconds as YYYY-MM-DDTHH:MM:SS (proleptic Gregorian). */
export function formatUnix(sec) {
  sec = BigInt(sec);
  const days = sec >= 0n ? sec / 86400n : -((-sec + 86399n) / 86400n);
  const rest = Number(sec - days * 86400n);
  // Days to civil date, after Howard Hinnant's algorithm.
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = Number(z - era * 146097n);
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = era * 400n + BigInt(yoe) + (month <= 2 ? 1n : 0n);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const y = year < 0n ? '-' + pad(-year, 4) : pad(year, 4);
  return `${y}-${pad(month)}-${pad(day)}T${pad(Math.floor(rest / 3600))}:${pad(Math.floor(rest / 60) % 60)}:${pad(rest % 60)}`;
}

/**
 * Reports whether x is a plain object, whose own members are its contents:
 * Object.entries of a Map, Headers or URLSearchParams is empty. A module's
 * exports (import * as options) are members too.
 */
export function isPlainObject(x) {
  const tag = Object.prototype.toString.call(x);
  return tag === '[object Object]' || tag === '[object Module]';
}

// isMap and isDate are instanceof for a Map or a Date of any realm (vm, iframe) too.
const isMap = (x) => x instanceof Map || kindOf(x) === 'a Map';
const isDate = (x) => x instanceof Date || kindOf(x) === 'a Date';

/** Names what x is, for a message: null, a string, a Map. */
export function kindOf(x) {
  if (x === null) return 'null';
  const tag = typeof x === 'object' || typeof x === 'function' ? Object.prototype.toString.call(x).slice(8, -1) : typeof x;
  // a Uint8Array, a URLSearchParams; an undefined, an Array.
  return `${/^[aeiouAEIO]/.test(tag) ? 'an' : 'a'} ${tag}`;
}

// copyBytes copies into a Uint8Array of its own: a Node Buffer's slice is
// a view of the caller's memory (often a shared pool), which a DataView
// over its .buffer would read from the wrong offset.
const copyBytes = (bytes) => new Uint8Array(bytes);

/** A string from Go: a JS string when it is valid UTF-8, else its bytes. */
function goString(bytes) {
  try {
    return strictUTF8.decode(bytes);
  } catch {
    return copyBytes(bytes);
  }
}

/** The bytes of a Go string given as a JS string (UTF-8) or a Uint8Array. */
export function stringBytes(s, what) {
  if (s instanceof Uint8Array) return copyBytes(s);
  if (typeof s !== 'string') throw new TypeError(`cookiesession: ${what} must be a string or a Uint8Array`);
  if (!s.isWellFormed()) throw new TypeError(`cookiesession: ${what} holds a lone surrogate, which UTF-8 cannot carry`);
  return utf8.encode(s);
}

// Keys index a Map by their bytes, one char per byte: comparing two such
// strings compares the bytes as memcmp does.
const byteKey = (bytes) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
};

/** Copies a value out so that a caller cannot change what is stored. */
function copyOut(type, value) {
  if (value instanceof Uint8Array) return copyBytes(value);
  if (type === '[]string') return value.map((s) => (s instanceof Uint8Array ? copyBytes(s) : s));
  if (type === 'map[string]string') return new Map([...value].map(([k, v]) => [copyOut('', k), copyOut('', v)]));
  return value;
}

/**
 * Values is the typed contents of a session: each value keeps the Go type
 * it was stored as, so re-sealing gives Go back the same types. Keys are
 * strings (or Uint8Array for keys that are not UTF-8). Values has no JSON
 * form, since JSON would not keep the Go types: JSON.stringify throws
 * rather than write {}. Carry a record as a token (Codec.seal).
 */
export class Values {
  #entries = new Map(); // byteKey -> {key, keyBytes, type, value, bits?}

  /** The value under key, or undefined. Mutable values are copies. */
  get(key) {
    const e = this.#entries.get(byteKey(stringBytes(key, 'a key')));
    return e === undefined ? undefined : copyOut(e.type, e.value);
  }

  /** {type, value} under key, with the Go type name; floats also carry their IEEE bits. */
  getTyped(key) {
    const e = this.#entries.get(byteKey(stringBytes(key, 'a key')));
    if (e === undefined) return undefined;
    const typed = { type: e.type, value: copyOut(e.type, e.value) };
    if (e.type === 'float32' || e.type === 'float64') typed.bits = floatBits(e);
    return typed;
  }

  /** The JSON value under key (a json.RawMessage), parsed. */
  getJSON(key) {
    const e = this.#entries.get(byteKey(stringBytes(key, 'a key')));
    if (e === undefined) return undefined;
    if (e.type !== 'json.RawMessage') throw new TypeError(`cookiesession: value for key ${JSON.stringify(String(key))} is ${e.type}, not JSON`);
    if (typeof e.value !== 'string') {
      // Held as bytes: not UTF-8, where TextDecoder, as Go's encoding/json, would read U+FFFD.
      throw new RangeError(`cookiesession: the JSON under key ${quote(e.keyBytes)} holds bytes that are not UTF-8, which would be read as U+FFFD: read its bytes with get(key)`);
    }
    const text = e.value;
    // JSON.parse rounds an int64 past 2^53 (an id) and reads 1e400 as Infinity, without a word.
    const inexact = inexactNumber(stringBytes(text));
    if (inexact !== undefined) {
      const read = Number(inexact);
      throw new RangeError(`cookiesession: the JSON under key ${quote(e.keyBytes)} holds the number ${inexact}, which JSON.parse would read as ${exactText(read)}: read its text with get(key), or have Go store the number as a string`);
    }
    // A \ud800 escape parses to a lone surrogate, where Go's encoding/json reads U+FFFD.
    return JSON.parse(text, (name, value) => {
      const lone = !name.isWellFormed() ? name : typeof value === 'string' && !value.isWellFormed() ? value : undefined;
      if (lone !== undefined) {
        throw new RangeError(`cookiesession: the JSON under key ${quote(e.keyBytes)} holds the string ${JSON.stringify(lone)}, whose lone surrogate Go's encoding/json reads as U+FFFD: read its text with get(key)`);
      }
      return value;
    });
  }

  has(key) {
    return this.#entries.has(byteKey(stringBytes(key, 'a key')));
  }

  /**
   * Stores value under key as the Go type named by type. Without one, a
   * number or bigint replacing a Go number keeps its type (a string, a
   * json.RawMessage), and any other value takes the type its JS type maps
   * to: null -> nil, string -> string, boolean -> bool, bigint -> int,
   * number -> float64, Uint8Array -> []byte, GoTime or Date -> time.Time,
   * array -> []string, Map -> map[string]string. It throws, and changes
   * nothing, if the value does not fit the type (or is undefined).
   */
  set(key, value, type) {
    const keyBytes = stringBytes(key, 'a key');
    const held = this.#entries.get(byteKey(keyBytes))?.type;
    const e = type === undefined && keepsType(held, value) ? keptEntry(keyBytes, held, value) : makeEntry(keyBytes, type === undefined ? inferType(value) : type, value);
    this.#entries.set(byteKey(keyBytes), e);
    return this;
  }

  /** Stores JSON.stringify(value) as a json.RawMessage. */
  setJSON(key, value) {
    const text = JSON.stringify(value, refuseLossy);
    if (text === undefined) throw new TypeError('cookiesession: value has no JSON form');
    return this.set(key, text, 'json.RawMessage');
  }

  delete(key) {
    return this.#entries.delete(byteKey(stringBytes(key, 'a key')));
  }

  get size() {
    return this.#entries.size;
  }

  /** The keys in ascending byte order (the wire order). */
  keys() {
    return this.#sorted().map((e) => e.key);
  }

  /** Throws: JSON would not keep each value's Go type (see the class). */
  toJSON() {
    throw new TypeError("cookiesession: a Values has no JSON form, which would not keep each value's Go type: carry the record as a token (Codec.seal and open), or copy the values out with get");
  }

  /** [key, {type, value}] pairs in wire order. */
  entries() {
    return this.#sorted().map((e) => [e.key, this.getTyped(e.keyBytes)]);
  }

  #sorted() {
    return [...this.#entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
  }

  /** The canonical encoding (FORMAT.md section 4). */
  encode() {
    const w = new Writer();
    const sorted = this.#sorted();
    w.uvarint(sorted.length);
    for (const e of sorted) writeEntry(w, e);
    return w.bytes();
  }

  /** Decodes a values section; throws ValuesError with Go's wording. */
  static decode(bytes) {
    const v = new Values();
    const r = new Reader(bytes);
    const count = r.count('value', 2);
    let prev = null;
    for (let i = 0; i < count; i++) {
      const e = readEntry(r);
      const k = byteKey(e.keyBytes);
      if (prev !== null && prev >= k) r.fail(`key ${quote(e.keyBytes)} out of order or repeated`);
      prev = k;
      v.#entries.set(k, e);
    }
    if (r.remaining() !== 0) r.fail(`${r.remaining()} trailing bytes`);
    return v;
  }
}

// refuseLossy is setJSON's replacer: JSON.stringify writes a Map or a Set
// as {}, and bytes as {"0":1,...} (a Node Buffer, by its toJSON, as
// {"type":"Buffer","data":[...]}), where Go would read an empty map or fail;
// NaN, the infinities and an invalid Date as null, -0 as 0, and a lone surrogate as a \ud800
// escape, which Go's encoding/json reads as U+FFFD; an integer past 2^53 as
// the shortest digits of its double (2 ** 60 as 1152921504606847000), which
// Go reads into an int64 as that other integer; a function or a symbol it
// leaves out (null in an array), undefined or a hole in an array as null,
// and it throws for a bigint, with no fix named. this[key] is the value
// before its toJSON; kinds are read by tag, so that a Map of another realm
// (vm, iframe) is one too.
function refuseLossy(key, value) {
  const at = key === '' ? 'the top' : JSON.stringify(key);
  if (!key.isWellFormed()) {
    throw new TypeError(`cookiesession: setJSON: the member name ${at} holds a lone surrogate, which JSON.stringify writes as a \\u escape and Go reads as U+FFFD: give name.toWellFormed()`);
  }
  const kind = kindOf(value);
  refuseChanged(kind === 'a Number' || kind === 'a String' ? value.valueOf() : value, at);
  refuseDropped(this, value, kind, at);
  if (kind === 'a Map' || kind === 'a Set') {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes ${kind} as {}, losing its contents (at ${at}): give Object.fromEntries(map), or [...set]`);
  }
  const given = this[key];
  if (isDate(given) && Number.isNaN(given.getTime())) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes an invalid Date as null (at ${at}): give null yourself, or a valid Date`);
  }
  const bytes = ArrayBuffer.isView(given) || /^an? (Shared)?ArrayBuffer$/.test(kindOf(given));
  if (bytes && typeof value !== 'string') {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes ${kindOf(given)} as an object Go cannot read as a []byte (at ${at}): give its base64 text, as Go's encoding/json writes a []byte, or store it with set(key, bytes)`);
  }
  const cls = hiddenClass(value);
  if (cls !== undefined) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes an object of class ${cls} as {}, since it has no own enumerable property, losing what it holds (private fields, getters, internal state) (at ${at}): give a plain object of what to keep, or the class a toJSON method`);
  }
  return value;
}

// hiddenClass returns the class name of an object JSON.stringify writes as
// {} whatever it holds: an object with no own enumerable property, not a
// boxed primitive, which is written as its value, of a class that keeps
// state out of sight: a built-in's (an Error, a URLSearchParams, internal
// slots), or one whose prototypes define methods or getters (over
// #private fields), or inherited data. Go's SetJSON refuses a struct whose
// fields are all unexported alike. A plain object, of any realm, is
// written as it is, and so is an instance of a class that defines nothing
// but its constructor (a DTO whose optional fields are all unset), which
// holds nothing more than its own properties.
function hiddenClass(value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length > 0) return undefined;
  if (/^an? (Number|String|Boolean|BigInt)$/.test(kindOf(value))) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto === null || Object.getPrototypeOf(proto) === null) return undefined;
  let hides = false;
  for (let p = proto; p !== null && Object.getPrototypeOf(p) !== null && !hides; p = Object.getPrototypeOf(p)) {
    const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value;
    hides = Reflect.ownKeys(p).some((k) => k !== 'constructor') || (typeof ctor === 'function' && /\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(ctor)));
  }
  if (!hides) return undefined;
  const name = typeof value.constructor === 'function' ? value.constructor.name : '';
  return name || kindOf(value).replace(/^an? /, '');
}

// refuseChanged throws for a number or string (or its wrapper object)
// that JSON.stringify writes as another value than it is.
function refuseChanged(value, at) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes ${value} as null (at ${at}), and Go's SetJSON refuses it: store the number alone with set(key, value), a float64 that keeps it, or give null yourself`);
  }
  // Below 1e21 a double is written as digits, the shortest that read back
  // as it: past 2^53 those may be another integer (getJSON's inexactNumber
  // refuses the text, and Go's int64 reads it as written).
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 53 && Math.abs(value) < 1e21 && String(value) !== String(BigInt(value))) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes the number ${BigInt(value)} as ${value}, another integer (at ${at}), which Go reads into an int64 as written and getJSON refuses: store an id as a string, or the number alone with set(key, value), a float64 that keeps it`);
  }
  if (Object.is(value, -0)) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes -0 as 0 (at ${at}): give 0, or store the number alone with set(key, -0), a float64 that keeps its sign`);
  }
  if (typeof value === 'string' && !value.isWellFormed()) {
    throw new TypeError(`cookiesession: setJSON: the string at ${at} holds a lone surrogate, which JSON.stringify writes as a \\u escape and Go reads as U+FFFD: give text.toWellFormed()`);
  }
}

// refuseDropped throws for what JSON.stringify leaves out of holder, writes
// as null, or throws for without naming a fix: a function or a symbol (Go's
// SetJSON refuses a func), undefined or a hole in an array (a member that
// is undefined is left out, and reads back as undefined), a bigint.
function refuseDropped(holder, value, kind, at) {
  if (typeof value === 'bigint' || kind === 'a BigInt') {
    throw new TypeError(`cookiesession: setJSON: JSON has no bigint, and JSON.stringify throws for ${value}n (at ${at}): give String(n), which Go reads into a json.Number or an int64 field tagged ,string, or store the number alone with set(key, n)`);
  }
  const inArray = Array.isArray(holder);
  if (typeof value === 'function' || typeof value === 'symbol') {
    const what = typeof value === 'function' ? 'a function' : 'a symbol';
    throw new TypeError(`cookiesession: setJSON: JSON.stringify ${inArray ? `writes ${what} as null` : `leaves out ${what}`} (at ${at}), and Go's SetJSON refuses a func: give the data alone`);
  }
  if (value === undefined && inArray) {
    throw new TypeError(`cookiesession: setJSON: JSON.stringify writes undefined, or an array's hole, as null (at ${at}): give null yourself, or leave the element out`);
  }
}

// KEPT names, by JS type, the Go types a value of that JS type keeps when
// it replaces one without a type: a JS number stands for many Go types,
// and a Go int32 incremented at the edge must not come back as a float64
// (nor a JSON value re-stringified as a string).
const KEPT = {
  number: ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float32', 'float64', 'int', 'int64', 'uint', 'uint64', 'time.Duration'],
  bigint: ['int', 'int64', 'uint', 'uint64', 'time.Duration', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float32', 'float64'],
  string: ['json.RawMessage'],
};

const keepsType = (held, value) => KEPT[typeof value]?.includes(held) ?? false;

// keptEntry stores value as held, the type its key holds, or says why not.
function keptEntry(keyBytes, held, value) {
  const hint = `the key holds a ${held}: name the type to store another, as set(key, value, '${inferType(value)}')`;
  if (held === 'time.Duration' && typeof value === 'number') {
    throw new TypeError(`cookiesession: ${value} has no unit; ${hint}, or give the nanoseconds as a bigint`);
  }
  try {
    if (typeof value === 'bigint' && (held === 'float32' || held === 'float64')) {
      // A Go float stays one (a bigint would store an int, which Go's
      // s.Get(key).(float64) does not take), if the number is exact.
      if (!Number.isFinite(Number(value)) || BigInt(Number(value)) !== value || (held === 'float32' && Math.fround(Number(value)) !== Number(value))) {
        throw new RangeError(`cookiesession: ${value} is not exactly a ${held}`);
      }
      value = Number(value);
    }
    return makeEntry(keyBytes, held, value);
  } catch (err) {
    throw new err.constructor(`${err.message}; ${hint}`);
  }
}

function inferType(value) {
  if (value === undefined) throw new TypeError('cookiesession: value is undefined: give null to store a nil, or delete the key');
  if (value === null) return 'nil';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'float64';
  if (value instanceof Uint8Array) return '[]byte';
  if (value instanceof GoTime || isDate(value)) return 'time.Time';
  if (Array.isArray(value)) return '[]string';
  if (isMap(value)) return 'map[string]string';
  throw new TypeError('cookiesession: no Go type for this value: give one, or store it with setJSON');
}

function makeEntry(keyBytes, type, value) {
  const e = { key: goString(keyBytes), keyBytes, type, value: null };
  if ((type === 'float32' || type === 'float64') && value instanceof Uint8Array) {
    // A float given by its IEEE 754 bits keeps them all, NaN payloads too.
    const size = type === 'float32' ? 4 : 8;
    if (value.length !== size) throw new RangeError(`cookiesession: ${type} bits must be ${size} bytes`);
    e.bits = copyBytes(value);
    const view = new DataView(e.bits.buffer);
    e.value = size === 4 ? view.getFloat32(0) : view.getFloat64(0);
    return e;
  }
  e.value = checkValue(type, value);
  return e;
}

// checkValue validates value for type and returns the form it is stored in.
function checkValue(type, value) {
  // Object.hasOwn: 'toString' in TAGS is true, and would fail far from here.
  if (!Object.hasOwn(TAGS, type)) throw new TypeError(`cookiesession: unknown type ${String(type)}`);
  if (type in SMALL_INTS) return smallInt(type, value);
  if (type in BIG_INTS) return bigInt(type, value);
  switch (type) {
    case 'nil':
      if (value !== null && value !== undefined) throw new TypeError('cookiesession: a nil value must be null');
      return null;
    case 'string':
      return goString(stringBytes(value, 'a string value'));
    case '[]byte':
      if (!(value instanceof Uint8Array)) throw new TypeError('cookiesession: a []byte value must be a Uint8Array');
      return copyBytes(value);
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError('cookiesession: a bool value must be a boolean');
      return value;
    case 'float32':
    case 'float64':
      return checkFloat(type, value);
    case 'time.Time':
      if (isDate(value)) return GoTime.fromDate(value);
      if (!(value instanceof GoTime)) throw new TypeError('cookiesession: a time.Time value must be a GoTime or a Date');
      return value;
    case '[]string':
      if (!Array.isArray(value)) throw new TypeError('cookiesession: a []string value must be an array');
      // Array.from: a hole is an element, refused here and not when sealing.
      return Array.from(value, (s) => goString(stringBytes(s, 'a []string element')));
    case 'map[string]string':
      return checkMap(value);
    case 'json.RawMessage': {
      const bytes = stringBytes(value, 'a JSON value');
      if (!validJSON(bytes)) throw new TypeError('cookiesession: value is not valid JSON');
      return goString(bytes);
    }
  }
  throw new TypeError(`cookiesession: unknown type ${type}`);
}

function smallInt(type, value) {
  const [size, signed] = SMALL_INTS[type];
  const n = typeof value === 'bigint' ? Number(value) : value;
  const bits = size * 8;
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!Number.isInteger(n) || n < lo || n > hi || (typeof value === 'bigint' && BigInt(n) !== value)) {
    throw new RangeError(`cookiesession: ${String(value)} is not a ${type}`);
  }
  return n + 0; // an integer has no -0
}

function bigInt(type, value) {
  if (type === 'time.Duration' && typeof value === 'number') {
    // JS durations are seconds or milliseconds: 3600 would be 3.6 µs.
    throw new TypeError(`cookiesession: a time.Duration counts nanoseconds, and ${value} has no unit: give a bigint, such as ${value}n * 1_000_000_000n for ${value} seconds`);
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) value = BigInt(value);
  if (typeof value === 'number' && !Number.isInteger(value)) throw new RangeError(`cookiesession: ${value} is not a ${type}: give a whole number`);
  if (typeof value === 'number' && Number.isFinite(value)) {
    throw new RangeError(`cookiesession: ${value} is past 2^53, where a number has lost its last digits: give a bigint`);
  }
  if (typeof value !== 'bigint') throw new TypeError(`cookiesession: a ${type} value must be a bigint`);
  const ok = BIG_INTS[type] ? BigInt.asIntN(64, value) === value : BigInt.asUintN(64, value) === value;
  // A bigint set without a type is an int: one past 2^63 fits a uint64.
  const unsigned = BIG_INTS[type] && type !== 'time.Duration' && value > 0n && BigInt.asUintN(64, value) === value ? ": give the type, as set(key, value, 'uint64')" : '';
  if (!ok) throw new RangeError(`cookiesession: ${value} is not a ${type}${unsigned}`);
  return value;
}

function checkFloat(type, value) {
  if (typeof value !== 'number') throw new TypeError(`cookiesession: a ${type} value must be a number`);
  if (type === 'float32' && !Number.isNaN(value) && Math.fround(value) !== value) {
    throw new RangeError(`cookiesession: ${value} is not exactly a float32: give Math.fround(value), the float32 nearest it`);
  }
  return value;
}

function checkMap(value) {
  // Headers, URLSearchParams and FormData hold pairs that are not members: Object.entries would store an empty map.
  const pairs = isMap(value) ? [...value] : isPlainObject(value) ? Object.entries(value) : null;
  if (pairs === null) {
    throw new TypeError(`cookiesession: a map[string]string value must be a Map or a plain object: for Headers, URLSearchParams or FormData, give new Map(value); not ${kindOf(value)}`);
  }
  const out = new Map();
  const seen = new Set();
  for (const [k, v] of pairs) {
    const kb = stringBytes(k, 'a map key');
    if (seen.has(byteKey(kb))) throw new TypeError(`cookiesession: map key ${quote(kb)} repeated`);
    seen.add(byteKey(kb));
    out.set(goString(kb), goString(stringBytes(v, 'a map value')));
  }
  return out;
}

function floatBits(e) {
  if (e.bits && Number.isNaN(e.value)) return copyBytes(e.bits);
  const size = e.type === 'float32' ? 4 : 8;
  const bits = new Uint8Array(size);
  const view = new DataView(bits.buffer);
  if (size === 4) view.setFloat32(0, e.value);
  else view.setFloat64(0, e.value);
  return bits;
}

// Go's strconv.Quote (%q), so that a refusal's reason is Go's: printable
// runes as they are, a byte that is not UTF-8 as \xff, and other runes
// escaped (\x00, \u200b), where JSON.stringify would write \u0000 and
// could not show a stray byte at all.
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;
const ESCAPES = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 34: '"', 92: '\\' };

function quote(bytes) {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const size = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    const rune = goString(bytes.subarray(i, i + size));
    const valid = typeof rune === 'string';
    const c = valid ? rune.codePointAt(0) : b;
    i += valid ? size : 1;
    if (ESCAPES[c]) out += '\\' + ESCAPES[c];
    else if (valid && PRINTABLE.test(rune)) out += rune;
    else out += !valid || c < 0x80 ? `\\x${hex(c, 2)}` : c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
  }
  return out + '"';
}
const hex = (c, width) => c.toString(16).padStart(width, '0');

class Writer {
  #chunks = [];
  #len = 0;
  push(bytes) {
    this.#chunks.push(bytes);
    this.#len += bytes.length;
  }
  uvarint(x) {
    let n = BigInt(x);
    const out = [];
    while (n >= 0x80n) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
    this.push(Uint8Array.from(out));
  }
  string(s) {
    const bytes = typeof s === 'string' ? utf8.encode(s) : s;
    this.uvarint(bytes.length);
    this.push(bytes);
  }
  fixed(x, size) {
    const out = new Uint8Array(size);
    let n = BigInt.asUintN(size * 8, BigInt(x));
    for (let i = size - 1; i >= 0; i--) {
      out[i] = Number(n & 0xffn);
      n >>= 8n;
    }
    this.push(out);
  }
  bytes() {
    const out = new Uint8Array(this.#len);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function writeEntry(w, e) {
  w.string(e.keyBytes);
  w.push(Uint8Array.of(TAGS[e.type]));
  const { type, value } = e;
  if (type in SMALL_INTS) return w.fixed(value, SMALL_INTS[type][0]);
  if (type in BIG_INTS) return w.fixed(value, 8);
  switch (type) {
    case 'nil':
      return;
    case 'string':
    case '[]byte':
    case 'json.RawMessage':
      return w.string(value);
    case 'bool':
      return w.push(Uint8Array.of(value ? 1 : 0));
    case 'float32':
    case 'float64':
      return w.push(floatBits(e));
    case 'time.Time':
      w.fixed(value.unix, 8);
      w.fixed(value.nsec, 4);
      return w.fixed(value.offset, 4);
    case '[]string':
      w.uvarint(value.length);
      for (const s of value) w.string(s);
      return;
    case 'map[string]string': {
      const pairs = [...value].map(([k, v]) => [stringBytes(k, 'a map key'), v]);
      pairs.sort(([a], [b]) => (byteKey(a) < byteKey(b) ? -1 : 1));
      w.uvarint(pairs.length);
      for (const [k, v] of pairs) {
        w.string(k);
        w.string(v);
      }
    }
  }
}

/** A values section that does not decode; the message is Go's. */
export class ValuesError extends Error {}

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.off = 0;
  }
  remaining() {
    return this.b.length - this.off;
  }
  fail(msg) {
    throw new ValuesError(`bad values encoding at byte ${this.off}: ${msg}`);
  }
  // uvarint returns a BigInt: a length may claim up to 2^64-1.
  uvarint() {
    let x = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.off >= this.b.length) this.fail('truncated length');
      const c = this.b[this.off++];
      if (i === 9 && c > 1) this.fail('length overflows 64 bits');
      x |= BigInt(c & 0x7f) << BigInt(7 * i);
      if (c < 0x80) {
        if (c === 0 && i > 0) this.fail('non-minimal length');
        return x;
      }
    }
    return this.fail('length overflows 64 bits');
  }
  count(what, minSize) {
    const n = this.uvarint();
    if (n > BigInt(Math.floor(this.remaining() / minSize))) {
      this.fail(`${what} count ${n} cannot fit in the ${this.remaining()} bytes that remain`);
    }
    return Number(n);
  }
  bytes() {
    const n = this.uvarint();
    if (n > BigInt(this.remaining())) this.fail(`string of ${n} bytes exceeds the ${this.remaining()} that remain`);
    const out = copyBytes(this.b.subarray(this.off, this.off + Number(n)));
    this.off += Number(n);
    return out;
  }
  fixed(size, what = 'truncated value') {
    if (size > this.remaining()) this.fail(what);
    let x = 0n;
    for (let i = 0; i < size; i++) x = (x << 8n) | BigInt(this.b[this.off++]);
    return x;
  }
}

function readEntry(r) {
  const keyBytes = r.bytes();
  if (r.remaining() < 1) r.fail('truncated value');
  const tag = r.b[r.off++];
  if (tag >= TYPES.length) r.fail(`unknown type tag 0x${tag.toString(16).padStart(2, '0')}`);
  const type = TYPES[tag];
  const e = { key: goString(keyBytes), keyBytes, type, value: null };
  readPayload(r, e);
  return e;
}

function readPayload(r, e) {
  const { type } = e;
  if (type in SMALL_INTS) {
    const [size, signed] = SMALL_INTS[type];
    const x = r.fixed(size);
    e.value = Number(signed ? BigInt.asIntN(size * 8, x) : x);
    return;
  }
  if (type in BIG_INTS) {
    const x = r.fixed(8);
    e.value = BIG_INTS[type] ? BigInt.asIntN(64, x) : x;
    return;
  }
  switch (type) {
    case 'nil':
      return;
    case 'string':
      e.value = goString(r.bytes());
      return;
    case '[]byte':
      e.value = r.bytes();
      return;
    case 'json.RawMessage': {
      const bytes = r.bytes();
      if (!validJSON(bytes)) r.fail(`invalid JSON for key ${quote(e.keyBytes)}`);
      e.value = goString(bytes);
      return;
    }
    case 'bool': {
      const x = r.fixed(1);
      if (x > 1n) r.fail(`bool byte 0x${x.toString(16).padStart(2, '0')} is not 0 or 1`);
      e.value = x === 1n;
      return;
    }
    case 'float32':
    case 'float64':
      return readFloat(r, e);
    case 'time.Time':
      e.value = readTime(r);
      return;
    case '[]string':
      e.value = readList(r);
      return;
    case 'map[string]string':
      e.value = readMap(r);
  }
}

function readFloat(r, e) {
  const size = e.type === 'float32' ? 4 : 8;
  if (size > r.remaining()) r.fail('truncated value');
  e.bits = copyBytes(r.b.subarray(r.off, r.off + size));
  r.off += size;
  const view = new DataView(e.bits.buffer);
  e.value = size === 4 ? view.getFloat32(0) : view.getFloat64(0);
}

function readTime(r) {
  if (r.remaining() < 16) r.fail('truncated time');
  const unix = BigInt.asIntN(64, r.fixed(8));
  const nsec = Number(r.fixed(4));
  const offset = Number(BigInt.asIntN(32, r.fixed(4)));
  if (nsec >= 1e9) r.fail(`nanoseconds ${nsec} out of range`);
  if (offset <= -MAX_OFFSET || offset >= MAX_OFFSET) r.fail(`zone offset ${offset} out of range`);
  return new GoTime(unix, nsec, offset);
}

function readList(r) {
  const n = r.count('list element', 1);
  const list = [];
  for (let i = 0; i < n; i++) list.push(goString(r.bytes()));
  return list;
}

function readMap(r) {
  const n = r.count('map entry', 2);
  const m = new Map();
  let prev = null;
  for (let i = 0; i < n; i++) {
    const k = r.bytes();
    if (prev !== null && byteKey(k) <= prev) r.fail(`map key ${quote(k)} out of order or repeated`);
    const v = r.bytes();
    m.set(goString(k), goString(v));
    prev = byteKey(k);
  }
  return m;
}
