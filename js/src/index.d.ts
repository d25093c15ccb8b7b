// Type declarations for cookiesession's JavaScript port (wire format versions 1 and 2).

/** The Go type a value is stored as; each keeps its FORMAT.md tag. */
export type GoType =
  | 'nil' | 'string' | '[]byte' | 'bool'
  | 'int' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float32' | 'float64' | 'time.Time' | 'time.Duration'
  | '[]string' | 'map[string]string' | 'json.RawMessage';

/** The tag byte of each Go type. */
export const TAGS: Readonly<Record<GoType, number>>;

/**
 * A Go string: a JS string when it is valid UTF-8, otherwise its bytes.
 * Keys are Go strings too.
 */
export type GoString = string | Uint8Array;

/** The JS form of each Go type. 64-bit integers and durations (nanoseconds) are BigInt. */
export interface GoValueOf {
  nil: null;
  string: GoString;
  '[]byte': Uint8Array;
  bool: boolean;
  int: bigint; int64: bigint; uint: bigint; uint64: bigint; 'time.Duration': bigint;
  int8: number; int16: number; int32: number; uint8: number; uint16: number; uint32: number;
  float32: number; float64: number;
  'time.Time': GoTime;
  '[]string': GoString[];
  'map[string]string': Map<GoString, GoString>;
  /** The JSON text, kept byte for byte. */
  'json.RawMessage': GoString;
}

/** A value with its Go type. Floats also carry their IEEE 754 bits, big-endian. */
export type Typed = { [T in GoType]: { type: T; value: GoValueOf[T]; bits?: Uint8Array } }[GoType];

/** A time.Time as the wire carries it: the instant and the zone offset. */
export class GoTime {
  /**
   * @param unix whole Unix seconds: a number within the years 0 to 9999
   *   (a larger one is most often milliseconds, and is refused), or a bigint
   *   for any int64. A Date is refused: use GoTime.fromDate.
   * @param offset seconds east of UTC, strictly within ±86400
   */
  constructor(unix: bigint | number, nsec?: number, offset?: number);
  /** Unix seconds, rounded down. */
  readonly unix: bigint;
  /** Nanoseconds, 0 to 999999999. */
  readonly nsec: number;
  /** Zone offset east of UTC, in seconds. */
  readonly offset: number;
  static fromDate(date: Date, offset?: number): GoTime;
  /** The instant, to the millisecond. Throws a RangeError for a time beyond a Date's range (±8.64e15 ms), which Go can hold. */
  toDate(): Date;
  equals(other: unknown): boolean;
  /** RFC 3339 with nanoseconds and offset, as Go's time.RFC3339Nano. */
  toString(): string;
  /** Text only: new Date(t), t < date and arithmetic throw a TypeError (use toDate()). */
  [Symbol.toPrimitive](hint: 'string'): string;
}

/** The typed contents of a session. */
export class Values {
  /** The value under key (mutable values are copies), or undefined. */
  get(key: GoString): GoValueOf[GoType] | undefined;
  getTyped(key: GoString): Typed | undefined;
  /**
   * Parses the json.RawMessage under key. Throws a TypeError if the value is
   * of another type, and a RangeError for a number in it that JSON.parse
   * cannot hold: an integer without fraction or exponent past 2^53 (an int64
   * id), one beyond a double's range (1e400), or a non-zero one it would read
   * as 0 (1e-400); and for a lone surrogate escape ("\ud800"), which Go's
   * encoding/json reads as U+FFFD, and for bytes that are not UTF-8, which
   * would be read as U+FFFD. Go's GetJSON into an any refuses the
   * same (GetJSON refuses such bytes into any type). get(key) gives the
   * text, or the bytes. A fraction is rounded to a double, as
   * Go's float64 rounds it.
   */
  getJSON(key: GoString): unknown;
  has(key: GoString): boolean;
  /**
   * Stores value as the Go type named. Without a type, a number or bigint
   * replacing a Go number keeps its type (a bigint on a float, if the float
   * holds it exactly), as a string replacing a json.RawMessage does,
   * and any other value takes the type its JS type maps to: null -> nil,
   * string -> string, boolean -> bool, bigint -> int, number -> float64,
   * Uint8Array -> []byte, GoTime or Date -> time.Time, array -> []string,
   * Map -> map[string]string. Integer types take a number or a bigint
   * (time.Duration only a bigint of nanoseconds); a float type also takes
   * its IEEE 754 bits as a 4- or 8-byte Uint8Array.
   * Throws, changing nothing, if the value does not fit the type, or is
   * undefined.
   */
  set<T extends GoType>(key: GoString, value: unknown, type?: T): this;
  /**
   * Stores JSON.stringify(value) as a json.RawMessage. Throws a TypeError
   * for a Map or a Set, and an object with no own enumerable property of a
   * built-in class (an Error, a URLSearchParams) or of a class that defines
   * methods or getters (#private fields), all written as {}, for bytes (a Uint8Array, a
   * Buffer), which Go cannot read as a []byte, and for what JSON.stringify
   * writes as another value: NaN, an infinity or an invalid Date (null),
   * -0 (0), a string or member name with a lone surrogate (which Go
   * reads as U+FFFD), an integer past 2^53 whose shortest digits are
   * another integer (2 ** 60 as 1152921504606847000), and undefined or a
   * hole in an array (null), anywhere in value; and for what it leaves out
   * or throws for: a function, a symbol, a bigint. A member that is
   * undefined is left out.
   */
  setJSON(key: GoString, value: unknown): this;
  delete(key: GoString): boolean;
  readonly size: number;
  /** Keys in ascending byte order. */
  keys(): GoString[];
  entries(): [GoString, Typed][];
  /** The canonical encoding of FORMAT.md section 4. */
  encode(): Uint8Array;
  /** Decodes a values section; throws with Go's wording. */
  static decode(bytes: Uint8Array): Values;
}

/**
 * A session's own lifetime, as Go's cookiesession.Lifetime (a "remember
 * me" login, a browser-session cookie). It is sealed inside the token,
 * which makes it a version 2 token. Durations are whole seconds, 0 to
 * 2^32-1; 0 means the codec's default. The codec's maxLifetime bounds both
 * durations, when sealing and every time the token is opened.
 */
export interface Lifetime {
  /** Absolute lifetime since creation; 0: the codec's maxAge. */
  maxAge: number;
  /** Idle timeout; 0: the codec's idleTimeout. */
  idleTimeout: number;
  /** Leave Max-Age out of the cookie; false makes it persistent. Overrides the browserSession option. */
  browserSession: boolean;
}

/** What a token carries. Times are whole Unix seconds. */
export interface SessionRecord {
  /** 16 random bytes, kept across re-seals. */
  id: Uint8Array;
  created: bigint;
  /** The token's own hard deadline. Set it to undefined before a seal to have it computed again. */
  get expires(): bigint;
  set expires(value: bigint | undefined);
  /** The key the token was opened or sealed with. */
  keyId: number;
  /**
   * The session's own lifetime (a version 2 token), or null for the
   * defaults (version 1). Set a new one ({ maxAge: 30 * 86400 }) to change
   * it; fields left out are 0.
   */
  get lifetime(): Lifetime | null;
  set lifetime(value: Partial<Lifetime> | null);
  values: Values;
}

/**
 * A record to seal: missing fields are filled in (a random id, created =
 * now, expires from the lifetimes). A lifetime whose fields are all zero or
 * absent is none: the token is version 1.
 */
export interface RecordToSeal {
  id?: Uint8Array;
  created?: bigint;
  expires?: bigint;
  /**
   * The key the record was opened with: it seals again while it is
   * incoming (see Codec.seal). Unset (or 0), the record is new, and seal
   * refuses a lifetime or expires that open would cut.
   */
  keyId?: number;
  lifetime?: Partial<Lifetime> | null;
  values?: Values;
}

export type ErrorKind = 'invalid' | 'unknown_key' | 'expired' | 'too_large';

/**
 * Why a token was refused or a session not sealed. reason is the Go
 * implementation's wording. message is "cookiesession: " and reason, then,
 * where the refusal comes from options other than those of the Go Manager
 * that wrote the cookie (a chunk beyond maxChunks; a session older than
 * maxAge, or maxLifetime, whose own deadline is later), the option to set.
 */
export class SessionError extends Error {
  constructor(kind: ErrorKind, reason: string, keyId?: number);
  readonly kind: ErrorKind;
  readonly reason: string;
  /** The key id read from the token, or 0. */
  readonly keyId: number;
  /**
   * True where Go's Manager leaves the client's cookie as it is, so code
   * at the edge should not clear it: 'unknown_key', a token created in
   * the future, and (from SessionCookies.open) a header that carried two
   * values under one of the session's cookie names, or chunks without the
   * first.
   */
  readonly keepCookie: boolean;
  /** For 'expired': the deadline that passed, in Unix seconds. */
  readonly expiredAt?: bigint;
}

/** A parsed key ring. Secrets are never shown by toString or JSON.stringify. */
export class KeyRing {
  /** Rings come from parseKeyRing. */
  private constructor();
  readonly ids: number[];
  /** The id of the key that seals at now, after any scheduled promotion. */
  primaryAt(now?: Date): number;
  /**
   * The fingerprint of key id's secret (FORMAT.md section 6), 12 hex digits
   * as Go's `cookiesession list` prints it; undefined if the ring lacks the key.
   * Rejects with a TypeError for an id that is not a uint32 number (the hex
   * string '1a2b3c4d' that `cookiesession list` prints: write 0x1a2b3c4d).
   */
  fingerprint(id: number): Promise<string | undefined>;
  toString(): string;
}

/**
 * Parses the ring's JSON text form (FORMAT.md section 6) as strictly as Go's
 * ParseKeyRing. Throws a TypeError for anything but a string or bytes (an
 * unset variable); a text that holds a ring inside quotes, with its quotes
 * escaped, in base64 once or twice, or as a member of a JSON document (a
 * secret manager's response, named by its jq path), or that looks like a
 * file path, is named as such, as Go's LoadKeyRingEnv names it.
 */
export function parseKeyRing(text: string | Uint8Array): KeyRing;

/** The length of the shortest valid token. */
export const MIN_TOKEN_LEN: number;

export interface CodecOptions {
  /** The cookie name tokens are bound to. */
  name: string;
  /** Absolute lifetime in seconds. Default 86400. */
  maxAge?: number;
  /** Idle timeout in seconds; 0 (default) is off. */
  idleTimeout?: number;
  /**
   * Bounds every session's MaxAge and idle timeout, its own lifetime's
   * included, in seconds (at most 2^32-1). Default: maxAge, and no less; an
   * idleTimeout must be shorter than it (RangeError), as Go's NewCodec.
   */
  maxLifetime?: number;
  /** Default 4096. */
  maxTokenLen?: number;
}

/** Seals and opens tokens, as Go's Codec. */
export class Codec {
  /**
   * Throws a TypeError for an option it does not know, and a RangeError for
   * a maxLifetime below maxAge or an idleTimeout not shorter than
   * maxLifetime (by default maxAge), as Go's NewCodec.
   */
  constructor(ring: KeyRing, options: CodecOptions);
  readonly maxTokenLen: number;
  /** Opens token as of now; throws a SessionError. */
  open(token: string, now?: Date): SessionRecord;
  /**
   * Seals record (filling it in, setting keyId, and setting lifetime to
   * the checked lifetime or null) and returns the token: version 2 if it
   * has a lifetime, else version 1. The key is the primary at now, except
   * for a record opened under a key whose promote_at is at most 60 s after
   * now: that key seals it again, as in Go's Codec and Manager (FORMAT.md section 6).
   * Throws a SessionError ('expired' or 'too_large'), or a RangeError for
   * times no opener accepts (FORMAT.md section 2), and, for a new record
   * (no keyId), for a lifetime longer than maxLifetime or an expires after
   * created plus the maxAge that applies, which open would cut, as Go's
   * Codec.SealAt; an opened record is sealed as open read it, cut.
   */
  seal(record: RecordToSeal, now?: Date): string;
}

export interface SessionCookiesOptions {
  /** Default "session". */
  name?: string;
  /**
   * Absolute lifetime in whole seconds, not express-session's milliseconds
   * (86400000 is 1000 days). Default 86400. Browsers cut a Max-Age over 400
   * days (34560000) to 400 days: with no idleTimeout and no
   * browserSession, a longer one is refused (RangeError), as Go's New.
   */
  maxAge?: number;
  /**
   * In seconds; shorter than maxLifetime if given, else maxAge, and at most
   * 34560000, 400 days, unless browserSession (RangeError), as in Go. With
   * it, maxAge may pass 400 days: each refresh writes the cookie again.
   */
  idleTimeout?: number;
  /**
   * As Go's Options.RefreshThreshold: refresh re-seals the cookie once less
   * than this fraction of the idle window is left. In (0, 1] (RangeError);
   * default 0.5.
   */
  refreshThreshold?: number;
  /** As Go's Options.MaxLifetime; default maxAge, and no less (RangeError). A ceiling: it may pass 400 days. */
  maxLifetime?: number;
  /** Each cookie's name plus value, in bytes. Default and most 4096 (RangeError). */
  maxCookieSize?: number;
  /** Default 1, at most 64. */
  maxChunks?: number;
  /** Default "/" (also for ""). Printable ASCII without ";", starting with "/" (RangeError), as Go's New. */
  path?: string;
  /**
   * A bare host name such as example.com (a leading dot is dropped, as
   * net/http does), or an IPv4 address; no scheme, port or path
   * (RangeError), as Go's New. Default none: a host-only cookie.
   */
  domain?: string;
  /** Default true. */
  secure?: boolean;
  /** Default true. */
  httpOnly?: boolean;
  /** Default "lax". */
  sameSite?: 'lax' | 'strict' | 'none';
  partitioned?: boolean;
  /** Leave out Max-Age, unless a record's own lifetime says otherwise. */
  browserSession?: boolean;
}

/** Reads and writes the session's cookies, chunked as Go's Manager does. */
export class SessionCookies {
  /** Throws a TypeError for an option it does not know or a flag that is not a boolean. */
  constructor(ring: KeyRing, options?: SessionCookiesOptions);
  /** The codec; its token limit is the chunks' total capacity. */
  readonly codec: Codec;
  /**
   * The record in the Cookie header, or null if no chunk is there. Throws a
   * SessionError. When the first cookie of each chunk name does not open and
   * the header holds a second cookie of one of those names, or several
   * chunks, the first of the base name's cookies (at most five) that opens,
   * alone or joined with the chunks sent, is taken, as in Go (FORMAT.md
   * section 5, step 5); if none opens, the error is the first unknown_key or
   * "session created in the future" among those tried, else the first one's.
   * A header that is one bare value starting as a token of this ring (the
   * cookie's value given for the header) throws an 'invalid' SessionError
   * that names the header to give, with keepCookie.
   */
  open(cookieHeader: string | string[] | null | undefined, now?: Date): SessionRecord | null;
  /** How many chunks the request holds (the highest index plus one); every chunk for a header of more than 3000 cookies, which may hold any. */
  chunksSent(cookieHeader: string | string[] | null | undefined): number;
  /**
   * The Cookie header to send on to the origin after seal or clear gave
   * lines: cookieHeader with the session's cookies replaced by those the
   * lines set, so that the origin reads the edge's session. Lines that
   * name none of the session's cookies (refresh gave []) leave it as it is.
   */
  forward(cookieHeader: string | string[] | null | undefined, lines: string[]): string;
  /**
   * The lines of lines to append after the origin's Set-Cookie lines: all of
   * them if the origin's set none of the session's names; else only those
   * expiring a chunk the origin's do not name, since the browser applies the
   * lines in order and the edge's would undo the origin's (a logout). A
   * string (headers.get('set-cookie'), lines joined) throws a TypeError.
   */
  merge(originLines: string[] | null | undefined, lines: string[]): string[];
  /**
   * Set-Cookie values for record, expiring chunks beyond the token that the
   * request held (sent, from chunksSent; default every chunk). Append each
   * as its own Set-Cookie header. A lifetime set on the record (not one
   * opened from the cookie) whose idleTimeout exceeds its maxAge, that is
   * persistent with an idleTimeout over 400 days or a maxAge over 400 days
   * and no idleTimeout (each its own, or else the option's), or that
   * exceeds maxLifetime, is refused with a RangeError, as Go's SetLifetime.
   * A lifetime set on the record gets the deadline it gives, as Go's
   * SetLifetime, unless record.expires holds one the caller set (not the
   * one open or seal gave the record, or, to a { ...record } copy, one
   * they gave the record it was made from or another copy), which is kept.
   * A lifetime dropped from a record (null, undefined or deleted) likewise
   * gets the deadline the options give, not the one its lifetime gave.
   * An all-zero lifetime set under the browserSession option takes maxAge
   * as its own, so the cookie is persistent, as Go's SetLifetime(Lifetime{}).
   * A sent that is not a whole number is refused with a TypeError.
   * A record open or seal returned (it has a keyId) whose values were all
   * deleted since (its token held some) gets the lines that expire the cookie (as clear(sent)), as Go's
   * Manager expires the cookie of a session left with no values, unless a
   * non-zero lifetime other than the token's was set on it since open (Go's
   * SetLifetime after the deletes; the same one set again, as a middleware
   * does every request before a logout, is Go's SetLifetime before them).
   */
  seal(record: RecordToSeal, now?: Date, sent?: number): string[];
  /**
   * Set-Cookie values for a session read and not changed, as Go's Manager
   * would send them at now, else []: record is sealed again with a new
   * deadline when a rolling refresh is due (refreshThreshold), or under
   * the primary key, keeping its deadline, when its token is under an old
   * one (not under the incoming key: see Codec.seal). A session that has
   * ended by now (opened at an earlier one) gets the lines that expire
   * its cookie, as Go's Manager refuses it. Call it on every
   * request that reads the session: without it, a user active only here is
   * signed out after idleTimeout. sent is as for seal. Throws a TypeError
   * for a record changed since open or seal (its values, id, created or
   * lifetime), whose change would be sent only when a refresh is due: seal it.
   */
  refresh(record: SessionRecord, now?: Date, sent?: number): string[];
  /** Set-Cookie values that expire the first `sent` chunks (at least one; default all; TypeError if not a whole number), byte for byte as Go's Manager writes them. */
  clear(sent?: number): string[];
}
