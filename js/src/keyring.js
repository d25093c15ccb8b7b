// The key ring's text form (FORMAT.md section 6), parsed by exactly the
// rules stated there, as Go's ParseKeyRing: the same inputs are accepted
// and refused.

import { decodeBase64 } from './base64.js';
import { JSONError, readJSON } from './json.js';

const MAX_KEYS = 256;
const KEY_SIZE = 32;
const utf8 = new TextEncoder();
// FORMAT.md section 6: the fingerprint hashes this label, then the secret.
const FINGERPRINT_LABEL = utf8.encode('cookiesession key fingerprint v1\0');
const FINGERPRINT_SIZE = 6;

// built is what parseRing passes the constructor: a ring built by hand
// (the class is exported for instanceof) would skip every check of
// FORMAT.md section 6, a secret of 32 zero bytes among them.
const built = Symbol('parsed');

/** A key ring: the keys that open tokens, and which one seals when. */
export class KeyRing {
  #keys; // Map id -> {id, secret, promoteAt (ns BigInt) | null}
  #primary;
  #scheduled; // keys with a promotion time, by ascending time (stable)

  constructor(keys, primary, token) {
    if (token !== built) throw new TypeError('cookiesession: a KeyRing comes from parseKeyRing, which checks its keys: pass parseKeyRing the ring\'s text form');
    this.#keys = new Map(keys.map((k) => [k.id, k]));
    this.#primary = primary;
    this.#scheduled = keys.filter((k) => k.promoteAt !== null).sort((a, b) => (a.promoteAt < b.promoteAt ? -1 : a.promoteAt > b.promoteAt ? 1 : 0));
    Object.freeze(this);
  }

  /** The ids of the ring's keys, as numbers. */
  get ids() {
    return [...this.#keys.keys()];
  }

  /** The id of the key that seals at `now`: the latest scheduled promotion that has come (of keys due at one instant, the last listed), else the primary. */
  primaryAt(now = new Date()) {
    const nowNs = BigInt(now.getTime()) * 1_000_000n;
    let id = this.#primary;
    for (const k of this.#scheduled) {
      if (nowNs < k.promoteAt) break;
      id = k.id;
    }
    return id;
  }

  /** The promotion time of key id in Unix nanoseconds, or null if it has none or is not here. For the codec only. */
  promoteAt(id) {
    return this.#keys.get(id)?.promoteAt ?? null;
  }

  /** The secret of key id, or undefined. For the codec only. */
  secret(id) {
    return this.#keys.get(id)?.secret;
  }

  /**
   * The fingerprint of key id's secret (FORMAT.md section 6): 12 hex
   * digits, the same as Go's `cookiesession list` prints, so that rings can
   * be compared without showing a secret; undefined if the ring lacks the
   * key. Async: WebCrypto's SHA-256 is. An id that is not a uint32 number,
   * such as the hex '1a2b3c4d' that cookiesession list prints, is refused
   * with a TypeError: as a Map key it would match no key, and an undefined
   * would read as a ring that lacks it.
   */
  async fingerprint(id) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      const fix = typeof id === 'string' && /^[0-9a-f]{8}$/i.test(id) ? `write it as a number, 0x${id.toLowerCase()}` : 'pass one of ring.ids';
      throw new TypeError(`cookiesession: fingerprint takes a key id as a number, not ${typeof id === 'string' ? JSON.stringify(id) : String(id)}: ${fix}`);
    }
    const secret = this.#keys.get(id)?.secret;
    if (secret === undefined) return undefined;
    const data = new Uint8Array(FINGERPRINT_LABEL.length + KEY_SIZE);
    data.set(FINGERPRINT_LABEL);
    data.set(secret, FINGERPRINT_LABEL.length);
    const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    data.fill(0);
    return Array.from(sum.subarray(0, FINGERPRINT_SIZE), (b) => b.toString(16).padStart(2, '0')).join('');
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

const fail = (message) => new Error(`cookiesession: ${message}`);
const syntax = (message) => fail(`parsing key ring: ${message}`);

/**
 * Parses the ring's text form, a string or UTF-8 bytes, by the rules of
 * FORMAT.md section 6. Throws an Error that never echoes a secret.
 */
export function parseKeyRing(text) {
  try {
    return parseRing(text);
  } catch (err) {
    const fix = text instanceof Uint8Array ? wrapping(new TextDecoder().decode(text).trim()) : typeof text === 'string' ? wrapping(text.trim()) : '';
    if (fix) throw syntax(`the text ${fix}`);
    throw err;
  }
}

// wrapping says how s wraps a valid ring's text, with the fix, or returns
// '', as Go's LoadKeyRingEnv does: a variable or secret set with quotes
// (jq without -r) or with a quote at one end only, as a .env line (its
// value's quotes paired or stray, the whole line inside quotes, or a quote
// before its name not closed), with escaped quotes or line breaks, in
// base64 once or twice (inside quotes too), or as a secret manager's whole JSON response gets
// the parser's error for its first byte or member only. The text is never
// echoed.
function wrapping(s) {
  const quoted = s.length > 1 && s[0] === s.at(-1) && (s[0] === '"' || s[0] === "'");
  const assignment = /^(?:export )?COOKIESESSION_KEYS=/;
  const assigned = assignment.exec(s);
  // A whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}"),
  // perhaps after export; or with a quote before its name that is not closed.
  const bare = s.startsWith('export ') ? s.slice('export '.length) : s;
  const line = bare.length > 1 && bare[0] === bare.at(-1) && (bare[0] === '"' || bare[0] === "'") ? unquote(bare) : '';
  const lineAssigned = assignment.exec(line);
  const strayLine = bare[0] === '"' || bare[0] === "'" ? bare.slice(1) : '';
  const strayLineAssigned = assignment.exec(strayLine);
  const stray = 'a stray quote at its start or end, a quote opened and not closed or closed and not opened';
  const k8s = "a Kubernetes Secret's data is decoded once before it reaches the environment: encode the ring once, or use stringData";
  const unwrapped = [
    [assigned ? unquote(s.slice(assigned[0].length)) : null,
      'as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export): set the variable to the value alone'],
    [assigned ? strayQuote(s.slice(assigned[0].length)) : null,
      `as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export) whose value has ${stray}: set the variable to the value alone, without the stray quote (in the .env file, quote the value at both ends or at neither)`],
    [lineAssigned ? unquote(line.slice(lineAssigned[0].length)) : null,
      `as a whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}", perhaps after export): set the variable to the value alone, without the name, the = and the quotes around the line (in a .env file, quote the value alone: COOKIESESSION_KEYS='{...}')`],
    [strayLineAssigned ? unquote(strayLine.slice(strayLineAssigned[0].length)) : null,
      `as a whole .env line with a stray quote before its name, a quote opened and not closed ("COOKIESESSION_KEYS={..., perhaps after export): set the variable to the value alone, without the stray quote, the name and the = (in a .env file, a line starts with the name, and only the value may be quoted: COOKIESESSION_KEYS='{...}')`],
    [quoted ? unquote(s) : null, 'inside quotes that are part of the value (jq without -r adds them): remove them, so that it starts with {'],
    [strayQuote(s), `with ${stray} (a .env file, an Environment= line or a YAML value quoted on one side only keeps it as part of the value): remove it, so that it starts with { and ends with }`],
    [s.includes('\\"') ? s.replaceAll('\\"', '"') : null, 'with its quotes escaped as \\": remove the backslashes'],
    [s.includes('\\n') ? (quoted ? s.slice(1, -1) : s).replace(/\\([nrt"])/g, (_, c) => ({ n: '\n', r: '\r', t: '\t', '"': '"' })[c]) : null,
      "with its line breaks written as \\n (the text of a JSON or YAML string kept without its quotes): set the variable to the ring's text itself, without quotes around it"],
    [requote(s), 'with every double quote removed (a shell removes them from a value not in single quotes, or from one in double quotes, where each " ends the quoted part; systemd from an Environment= line): ' +
      "put the ring's text in single quotes (COOKIESESSION_KEYS='{...}'), or set it from the file (COOKIESESSION_KEYS=\"$(cat ring.json)\"; systemd: EnvironmentFile= with the ring on one line)"],
    [unbase64(s), 'encoded in base64: set it to the decoded JSON text'],
    [unbase64(unbase64(s) ?? ''), `encoded in base64 twice: set it to the JSON text, decoded twice (${k8s})`],
    [quoted ? unbase64(unquote(s)) : null, "encoded in base64 inside quotes that are part of the value (a .env file's quotes kept by docker run --env-file, or jq without -r): set it to the decoded JSON text, without the quotes"],
  ];
  for (const [inner, fix] of unwrapped) {
    if (typeof inner === 'string' && attempt(() => parseRing(inner))) return `holds the key ring ${fix}`;
  }
  const [path, encoded] = nestedRing(s);
  if (encoded) {
    return `holds the key ring in base64 as the value of ${path} in a JSON document (a Kubernetes Secret read through its API, kubectl get secret -o json, whose data is in base64): set the secret or variable to that value decoded (jq -r '${path} | @base64d')`;
  }
  if (path) {
    return `holds the key ring as the value of ${path} in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): set the secret or variable to that value alone (jq -r '${path}')`;
  }
  const kind = unexpanded(s);
  if (kind) {
    return `holds a ${kind} that no shell expanded: a prompt (wrangler secret put), a dashboard's field or a file that no shell reads (wrangler.toml, .dev.vars, .env) keeps it as written: pipe the ring's text in (${PUT}), or write the text itself there, on one line (jq -c . ring.json)`;
  }
  // A secret first, as Go's LoadKeyRingEnv: one in base64 with no = at its
  // end (openssl rand -base64 48, or 32 bytes unpadded) may hold a slash.
  const secret = oneSecret(s);
  if (secret) return secret;
  // As Go's looksLikePath: one line, not JSON, with a path separator or a
  // .json name.
  if (s !== '' && !/[{}"\n]/.test(s) && !s.endsWith('=') && (/[/\\]/.test(s) || s.toLowerCase().endsWith('.json'))) {
    return "looks like a file path, not the key ring's JSON text: set the variable to the file's content";
  }
  return '';
}

// unexpanded names the shell expansion that s is written as (a command
// substitution or a variable reference, perhaps inside quotes), as Go's
// LoadKeyRingEnv, or returns ''. Nothing of s is echoed.
function unexpanded(s) {
  if (s.length > 1 && s[0] === s.at(-1) && (s[0] === '"' || s[0] === "'")) s = s.slice(1, -1);
  if (/^(\$\(|`)/.test(s)) return 'command substitution ($(...) or `...`)';
  if (/^(\$\{|\$env:)/i.test(s)) return 'variable reference (${...}, $env:...)';
  if (/^\$[A-Za-z_]/.test(s)) return 'variable reference ($NAME)';
  return /^%[^ {]+%$/.test(s) ? 'variable reference (%NAME%, as cmd.exe writes it)' : '';
}

// oneSecret says that s is a single secret (in base64 or hex, of 16 to 64
// bytes) where a ring's text belongs, as other libraries take a key, or
// returns '', as Go's. No byte of s is echoed. Random bytes in hex hold a
// digit and a letter, and in base64 a digit, an upper- and a lower-case
// letter: a path, a UUID or a number, which may be in the same alphabet,
// are no secret.
function oneSecret(s) {
  if (s.length < 22 || !/^[\w+/=-]+$/.test(s)) return '';
  const decoded = HEX.test(s) ? '' : unbase64(s) ?? '';
  const what = HEX.test(s) ? (s.length % 2 === 0 && s.length >= 32 && s.length <= 128 && /\d/.test(s) && /[a-f]/i.test(s) ? `${s.length / 2} bytes in hex` : '')
    : decoded.length >= 16 && decoded.length <= 64 && !/^[ -~]*$/.test(decoded) && /\d/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s) ? `${decoded.length} bytes in base64` : '';
  return what && `holds a single secret (${what}), not a key ring: a ring is the JSON text cookiesession keygen writes, which names each key by an id so that keys can rotate: make one (cookiesession keygen -out ring.json) and set the secret or variable to its text (${PUT})`;
}

const HEX = /^[0-9a-fA-F]+$/;
const PUT = 'wrangler secret put COOKIESESSION_KEYS < ring.json';

// requote returns s, a ring's text whose double quotes a shell or systemd
// removed, with quotes put back around each member's name and each value
// but the version's, or undefined if s holds a quote or is no object, as
// Go's requoteRing. A value runs to the next comma, bracket, brace or
// white space, so a promote_at keeps its colons.
function requote(s) {
  if (s.includes('"') || !s.startsWith('{')) return undefined;
  let out = '';
  let name = '';
  let inValue = false;
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if ('{}[], \t\r\n'.includes(c)) {
      inValue = inValue && c !== ',' && c !== '{';
      out += c;
      i++;
      continue;
    }
    if (c === ':' && !inValue) {
      inValue = true;
      out += c;
      i++;
      continue;
    }
    const stop = inValue ? '{}[], \t\r\n' : '{}[],: \t\r\n';
    let end = i;
    while (end < s.length && !stop.includes(s[end])) end++;
    const word = s.slice(i, end);
    out += inValue && name === 'version' ? word : JSON.stringify(word);
    if (!inValue) name = word;
    i = end;
  }
  return out;
}

// unbase64 decodes s from either base64 alphabet, padded or not, wrapped
// in lines or not, or returns undefined.
const unbase64 = (s) => attempt(() => atob(s.replace(/\s/g, '').replace(/-/g, '+').replace(/_/g, '/')));

// nestedRing returns the jq path of a member of the JSON object s whose
// value is a ring (its text in a string, that text in base64, or the
// object itself), at most three objects deep, or '', and whether the value
// is in base64, as Go's nestedRing. The names on the path are echoed; no
// value is.
function nestedRing(s) {
  const doc = s.startsWith('{') ? attempt(() => JSON.parse(s)) : undefined;
  return (isObject(doc) && findRing(doc, '', 3)) || [''];
}

function findRing(doc, path, depth) {
  for (const name of Object.keys(doc).sort()) {
    const at = memberPath(path, name);
    const value = doc[name];
    if (typeof value === 'string') {
      if (attempt(() => parseRing(value))) return [at];
      const inner = unbase64(value);
      if (inner !== undefined && attempt(() => parseRing(inner))) return [at, true];
    }
    if (isObject(value)) {
      if (attempt(() => parseRing(JSON.stringify(value)))) return [at];
      const found = depth > 1 && findRing(value, at, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

// memberPath returns the jq path of the member name of the object at
// path, as Go's jqMember: a name longer than 64 bytes, or one that may be
// a secret (maySecret), is not echoed; the path says its length instead.
function memberPath(path, name) {
  const bytes = utf8.encode(name).length;
  if (bytes > 64 || maySecret(name)) return `${path || '.'}[<a member name of ${bytes} bytes, not shown>]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${path}.${name}` : `${path || '.'}[${JSON.stringify(name)}]`;
}

// maySecret reports whether name may be a secret of 16 to 64 bytes, as
// Go's: 32 to 128 hex digits, or base64 of letters of both cases (as
// random bytes give; a field's name such as COOKIESESSION_KEYS_PRODUCTION
// is of one case) that decodes to as many.
function maySecret(name) {
  if (name.length < 22 || !/^[\w+/=-]+$/.test(name)) return false;
  if (HEX.test(name)) return name.length >= 32 && name.length <= 128;
  if (name === name.toLowerCase() || name === name.toUpperCase()) return false;
  const decoded = unbase64(name);
  return decoded !== undefined && decoded.length >= 16 && decoded.length <= 64;
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

// unquote returns s without one pair of surrounding quotes, JSON string
// escapes undone, or s itself if it has none.
function unquote(s) {
  if (s.length < 2 || s[0] !== s.at(-1) || (s[0] !== '"' && s[0] !== "'")) return s;
  return (s[0] === '"' && attempt(() => JSON.parse(s))) || s.slice(1, -1);
}

// strayQuote returns s without a quote at its start or end that has no
// match at the other end, or undefined, as Go's strayQuoteRing: a pair of
// one kind is unquote's.
function strayQuote(s) {
  if (s.length < 2) return undefined;
  const isQuote = (c) => c === '"' || c === "'";
  const [first, last] = [s[0], s.at(-1)];
  if (isQuote(first) && isQuote(last)) return first === last ? undefined : s.slice(1, -1);
  if (isQuote(first)) return s.slice(1);
  if (isQuote(last)) return s.slice(0, -1);
  return undefined;
}

// versionError refuses a ring's version other than the number 1, saying
// what it is, as Go's: a ring from a newer release (upgrade) or a
// hand-written 1.0 or "1" (respell it). The number's text is not echoed
// beyond one digit: a secret in hex pasted there unquoted would be read as
// a number, and its digits are the secret's.
function versionError(version) {
  const msg = 'key ring version is not 1, the only version supported: ';
  const respell = '; write "version": 1, as cookiesession keygen does';
  if (version.kind !== 'number') return fail(`${msg}it is not a number${respell}`);
  const text = version.text;
  const value = Number(text);
  const digits = /^[0-9]+$/.test(text);
  if (value === 1) return fail(`${msg}it is 1 written with a fraction or an exponent (1.0, 1e0)${respell}`);
  if (value === 0) return fail(`${msg}it is 0${respell}`);
  if (value < 0) return fail(`${msg}it is negative${respell}`);
  if (digits && text.length === 1) {
    return fail(`${msg}it is ${text}, a format this release does not read (written by a newer release?): upgrade this program to the release that wrote the ring`);
  }
  if (digits) return fail(`${msg}it is a number of ${text.length} digits, past any version a release writes${respell}`);
  return fail(`${msg}it is a number other than 1 written with a fraction or an exponent${respell}`);
}

// attempt returns what f returns, or undefined if it throws.
function attempt(f) {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function parseRing(text) {
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
    // A Worker secret or environment variable that is not set is undefined;
    // a JSON var in wrangler.toml arrives as an object.
    throw new TypeError(`cookiesession: parseKeyRing needs the ring's JSON text, a string or bytes, not ${text === null ? 'null' : typeof text}: is the variable holding it (COOKIESESSION_KEYS) set, and as text?`);
  }
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  if (bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)) {
    // "unexpected end" would not say that the whole text is missing.
    throw syntax('the text is empty (a truncated file, a shell redirect onto the file itself, a blank variable); a ring is the JSON object that cookiesession keygen writes');
  }
  byteOrderMark(bytes);
  const decoded = new TextDecoder().decode(bytes);
  if (hasConflictMarkers(decoded)) {
    throw syntax("the text holds a merge conflict's markers (<<<<<<<, =======, >>>>>>>): resolve the conflict into one ring that holds each key either side held");
  }
  notJSON(decoded);
  let doc;
  let after = -1; // where text after the ring's value starts
  try {
    doc = readJSON(bytes, { build: true }); // JSON whitespace only around it
  } catch (err) {
    if (err instanceof JSONError && err.at >= bytes.length) throw syntax('the text ends before the ring does: a truncated file, or one read while it was being written');
    // A whole value before err.at: text follows it, named once the value
    // is known to be a ring's object, as Go names it.
    doc = err instanceof JSONError ? attempt(() => readJSON(bytes.subarray(0, err.at), { build: true })) : undefined;
    if (doc === undefined) throw syntax(err.message);
    after = err.at;
  }
  const ring = members(doc, 'the key ring', ['version', 'primary', 'keys'], []);
  if (ring.version.kind !== 'number' || ring.version.text !== '1') throw versionError(ring.version);
  const primaryText = str(ring.primary, 'primary');
  if (ring.keys.kind !== 'array') throw syntax('keys is not an array');
  if (ring.keys.items.length > MAX_KEYS) throw fail(`key ring has more than ${MAX_KEYS} keys: remove the keys whose sessions have expired (cookiesession remove)`);
  const keysJSON = ring.keys.items.map(keyMembers);
  if (after >= 0) throw dataAfterRing(bytes[after]);
  const primary = parseKeyID(primaryText, ' (primary)');
  const keys = keysJSON.map(parseKey);
  checkRing(keys, primary);
  return new KeyRing(keys, primary, built);
}

// byteOrderMark refuses text that starts with a byte-order mark, naming it
// as Go's ParseKeyRing does: editors on Windows and PowerShell write one,
// and "invalid character at byte 0" would not say so. A string read from
// such a file by readFileSync(path, 'utf8') keeps it as U+FEFF.
function byteOrderMark(b) {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) throw syntax('the text starts with a UTF-8 byte-order mark; save it without one');
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
    throw syntax('the text is UTF-16 (it starts with a byte-order mark); save it as UTF-8 without one');
  }
  // As Go's isUTF16: ASCII in UTF-16, a NUL byte beside each of the first
  // characters. A ring's text holds no NUL.
  if (b.length > 3 && (b[0] && !b[1] && b[2] && !b[3] || !b[0] && b[1] && !b[2] && b[3])) {
    throw syntax('the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8 (in PowerShell, Set-Content -Encoding utf8NoBOM; iconv -f UTF-16LE -t UTF-8)');
  }
}

// notJSON names what a text that does not start as JSON starts with, when
// it is a comment or YAML, as Go's: the JSON error names only its first
// byte. No value is echoed.
function notJSON(text) {
  text = text.replace(/^[ \t\r\n]+/, '');
  // YAML's name: value has a space or the line's end after the colon: a
  // URL, a Windows path or an ARN has none.
  const name = /^([^\n:]*):(?:[ \t]|[ \t\r]*(?:\n|$))/.exec(text)?.[1];
  if (/^(\/\/|\/\*|#)/.test(text)) throw syntax("the text starts with a comment (// or #), which the ring's JSON text form does not allow: remove it, so that the text starts with {");
  if (!name || /[ \t{"'[]/.test(name)) return;
  if (name === 'apiVersion' || name === 'kind') throw syntax('the text is a Kubernetes manifest (YAML), not the ring: take the value of its stringData (or its data, decoded from base64)');
  throw syntax("the text is YAML (lines of name: value), not the ring's JSON text form: write the ring as JSON, as cookiesession keygen does (yq -o json converts it)");
}

// hasConflictMarkers reports whether text has a line that git (or diff3)
// writes around a merge conflict, as Go's does. No line of a ring's text
// starts so: ids are hex, and a secret ends with one "=" at most.
function hasConflictMarkers(text) {
  return text.split('\n').some((line) => {
    line = line.replace(/\r+$/, '');
    return line.startsWith('<<<<<<<') || line.startsWith('>>>>>>>') || line === '=======';
  });
}

// dataAfterRing describes what follows the ring's object, from its first
// byte c, with the fix, in Go's words.
function dataAfterRing(c) {
  if (c === 0x7b) {
    return syntax('data after the JSON object: a second object follows the ring (two rings joined, by a merge that kept both sides or by >> for >): a text holds one ring: merge the two into one, keeping each key either held');
  }
  return syntax("data after the JSON object: remove what follows the ring's closing brace (the text form has no comments)");
}

// members checks that node is an object whose member names are the
// required ones and possibly the optional ones, each once, in any order,
// and returns the values by name.
function members(node, what, required, optional) {
  if (node.kind !== 'object') throw syntax(`${what} is not an object`);
  const names = required.concat(optional);
  const out = {};
  for (const [name, value] of node.fields) {
    if (!names.includes(name)) throw unknownMember(what, name, names);
    if (Object.hasOwn(out, name)) throw syntax(`${what} has the member ${JSON.stringify(name)} twice`);
    out[name] = value;
  }
  const missing = required.find((name) => !Object.hasOwn(out, name));
  if (missing !== undefined) throw syntax(`${what} has no member ${JSON.stringify(missing)}`);
  return out;
}

// unknownMember names a member that differs from a known one only in case;
// any other name is not echoed, since it may be a secret pasted as a name.
function unknownMember(what, name, names) {
  const known = names.find((n) => fold(n) === fold(name));
  if (known !== undefined) return syntax(`${what} has a member ${JSON.stringify(name)}; the name is ${JSON.stringify(known)}`);
  return syntax(`${what} has an unknown member (of ${utf8.encode(name).length} bytes); the members are ${names.map((n) => JSON.stringify(n)).join(', ')}`);
}

const fold = (s) => s.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').toLowerCase();

function str(node, what) {
  if (node.kind !== 'string') throw syntax(`${what} is not a string`);
  return node.text;
}

function keyMembers(node, i) {
  const what = `keys[${i}]`;
  const k = members(node, what, ['id', 'secret'], ['promote_at']);
  const out = { id: str(k.id, `${what}.id`), secret: str(k.secret, `${what}.secret`), promoteAt: null };
  if (k.promote_at !== undefined) {
    out.promoteAt = str(k.promote_at, `${what}.promote_at`);
    if (out.promoteAt === '') throw syntax(`${what}.promote_at is empty; leave it out instead`);
  }
  return out;
}

// parseKeyID accepts exactly 8 lower-case hex digits, not all zero. A
// malformed id is not echoed: in a mangled ring it may be a secret.
function parseKeyID(s, where = '') {
  if (!/^[0-9a-f]{8}$/.test(s)) {
    const hint = ID_HINTS.find(([form]) => form.test(s))?.[1];
    throw fail(`key id of ${utf8.encode(s).length} characters is not 8 lower-case hex digits${hint ? `: ${hint}` : ''}${where}`);
  }
  const id = parseInt(s, 16);
  if (id === 0) throw fail(`key id ${s} is reserved${where}`);
  return id;
}

// ID_HINTS say how an id that is not 8 lower-case hex digits holds one,
// with what came with it when it was pasted, or a fingerprint for it, as
// Go's keyIDHint.
const ID_HINTS = [
  [/^[0-9a-fA-F]{8}$/, 'it has upper-case letters; write them in lower case'],
  [/^[ \t\r\n]*[0-9a-f]{8}[ \t\r\n]*$/, 'it has a space or a line end around it (a CR, from a Windows line end): remove it'],
  [/^(["'])[0-9a-f]{8}\1$/, 'it is inside quotes that are part of it: remove them'],
  [/^0x[0-9a-f]{8}$/i, 'it starts with 0x: write the 8 hex digits alone'],
  [/^[0-9a-f]{12}$/, "it has 12 hex digits, as a key's fingerprint does: the id is the 8 digits of list's ID column"],
];

// SECRET is the padded standard base64 of 32 bytes: 43 characters, the
// last of which carries two unused bits that must be zero, then '='.
const SECRET = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

function parseKey(k, i) {
  const id = parseKeyID(k.id, ` (keys[${i}].id)`);
  if (!SECRET.test(k.secret)) throw fail(`key ${k.id}: secret is not ${KEY_SIZE} bytes in padded standard base64 (44 characters, nothing else): ${secretProblem(k.secret)}`);
  const secret = decodeBase64(utf8.encode(k.secret), true);
  // Anyone can seal under 32 zero bytes (a placeholder, a buffer never filled).
  if (secret.every((b) => b === 0)) {
    throw fail(`key ${k.id}: secret is all zero bytes (a placeholder, or a buffer never filled), and anyone could seal tokens under it: replace the key with one made by cookiesession add (a new id), or make a new ring with cookiesession keygen`);
  }
  let promoteAt = null;
  if (k.promoteAt !== null) {
    promoteAt = parsePromoteAt(k.promoteAt);
    if (promoteAt === null) throw fail(`key ${k.id}: promote_at is not an RFC 3339 time such as 2026-12-01T00:00:00Z`);
  }
  return { id, secret, promoteAt };
}

// secretProblem says how s, a secret that SECRET refused, differs from it,
// with the fix, as Go's: a secret made by another tool (openssl rand -hex,
// a URL-safe encoder) or pasted by hand is refused by a rule the operator
// cannot see in it. No byte of s is echoed.
function secretProblem(s) {
  const key = 'make a key with cookiesession add (a new id)';
  const decoded = unbase64(s);
  const twice = decoded !== undefined && ((decoded.length === 64 && HEX.test(decoded)) || KEY_TEXT.test(decoded.replace(/[\r\n]/g, ''))); // Go's decoders skip line ends
  return s === '' ? `it is empty: copy the key's secret from the ring it came from, or ${key}`
    : /\s/.test(s) ? (SECRET.test(s.replace(/\s/g, '')) ? 'it holds a space, tab or line break (pasted with one): remove it'
      : 'it holds a space, tab or line break, and more is wrong with it: copy it again from where it came from')
    : /^[0-9a-fA-F]{64}$/.test(s) ? `it is 64 hex digits, the 32 bytes in hex (as openssl rand -hex 32 writes them): write the same bytes in standard base64 (echo HEX | xxd -r -p | base64), or ${key}`
    : /^(?=.*[-_])[\w-]{43}=?$/.test(s) ? "it is in base64's URL-safe alphabet (- and _): write + for each - and / for each _, and end it with = (44 characters)"
    : /^[A-Za-z0-9+/]{43}$/.test(s) ? 'it lacks the = that ends it: add it (44 characters)'
    : /^[A-Za-z0-9+/]{43}=$/.test(s) ? 'its last character before the = has bits set that base64 never writes for 32 bytes (a character changed by hand): copy the secret again from where it came from'
    : decoded === undefined && /^[A-Za-z0-9+/=]*$/.test(s) ? `it is ${s.length} characters of standard base64, where a key's secret is 44 ending in one = (a character lost or added in the copy, or an = out of place): copy it again from where it came from`
    : decoded === undefined ? 'it holds a character outside standard base64 (A-Z, a-z, 0-9, + and /, then =)'
    : twice ? "it is encoded twice (base64 of the secret's text): write the text it decodes to (base64 -d)"
    : `it decodes to ${decoded.length} bytes, and a key is 32 bytes from a random source (a secret made for another library or purpose): ${key}`;
}

// KEY_TEXT is 32 bytes in base64, either alphabet, padded or not.
const KEY_TEXT = /^([A-Za-z0-9+/]{43}|[\w-]{43})=?$/;

function checkRing(keys, primary) {
  if (keys.length === 0) throw fail('key ring has no keys: a ring holds at least its primary; cookiesession keygen writes one');
  const seen = new Set();
  for (const [i, k] of keys.entries()) {
    if (seen.has(k.id)) throw duplicateKeyID(keys, keys.findIndex((o) => o.id === k.id), i);
    seen.add(k.id);
    if (k.id === primary && k.promoteAt !== null) throw fail(`primary key ${formatKeyID(k.id)} cannot have a promotion time: remove it, as it is for a key that takes over later`);
  }
  if (!seen.has(primary)) {
    const ids = keys.slice(0, 8).map((k) => formatKeyID(k.id));
    if (keys.length > 8) ids.push(`and ${keys.length - 8} more`);
    throw fail(`primary key ${formatKeyID(primary)} is not in the ring, which holds ${ids.join(', ')}: make the primary the key that seals now, and keep every key whose sessions have not expired`);
  }
}

// duplicateKeyID describes keys[j] and keys[i], which share an id, with
// the fix, in Go's words: one id names one key, since a token names its
// key by id alone. Go's message names the two fingerprints, which WebCrypto
// computes only asynchronously: this one names the command that prints
// them, since a ring that fails to parse has no fingerprint method to
// call. Two copies of one key whose promote_at
// differs are told apart, as Go does: removing either would drop a
// promotion, or keep one, with nothing said.
function duplicateKeyID(keys, j, i) {
  const id = formatKeyID(keys[i].id);
  const [a, b] = [keys[j], keys[i]];
  if (a.secret.every((x, n) => x === b.secret[n])) {
    const twice = `duplicate key id ${id}: keys[${j}] and keys[${i}] are the same key twice (two rings merged, or one key added twice)`;
    if (a.promoteAt === b.promoteAt) return fail(`${twice}: remove one of them`);
    const differ = a.promoteAt === null ? `keys[${j}] without a promote_at and keys[${i}] with one`
      : b.promoteAt === null ? `keys[${j}] with a promote_at and keys[${i}] without` : 'at two different promote_at times';
    return fail(`${twice}, ${differ}: keep the one whose promotion the rotation means (none: the key stays open-only until promoted, as the primary has none) and remove the other`);
  }
  return fail(`duplicate key id ${id}: keys[${j}] and keys[${i}] are two different keys under one id (this text given to cookiesession list, by -ring FILE or on stdin by -ring -, names their fingerprints), and a token names its key by id alone: one id per key; keep the key whose fingerprint the instances show for ${id} (cookiesession list, /debug/vars) and replace the other with a key of a fresh id (cookiesession add makes one in a ring file, cookiesession keygen a new ring)`);
}

// PROMOTE_AT is the form of FORMAT.md section 6: RFC 3339 with an upper-case
// T and Z, a fraction of 1 to 9 digits, and a ±HH:MM offset.
const PROMOTE_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const YEAR_10000 = 253402300800n; // 10000-01-01T00:00:00Z in Unix seconds

// parsePromoteAt returns the instant in Unix nanoseconds, or null if s is
// not of the form, not a real date and time, or not in the years 1970 to
// 9999 UTC.
function parsePromoteAt(s) {
  const m = PROMOTE_AT.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || min > 59 || sec > 59) return null;
  let offset = 0;
  if (m[8] !== undefined) {
    const [oh, om] = [Number(m[9]), Number(m[10])];
    if (oh > 23 || om > 59) return null;
    offset = (m[8] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const unix = BigInt(daysFromCivil(year, month, day)) * 86400n + BigInt(hour * 3600 + min * 60 + sec - offset);
  if (unix < 0n || unix >= YEAR_10000) return null;
  return unix * 1_000_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

function daysIn(year, month) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// daysFromCivil counts the days from 1970-01-01 to a date of the proleptic
// Gregorian calendar.
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
