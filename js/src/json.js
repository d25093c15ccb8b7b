// A JSON reader over bytes that accepts exactly what Go's encoding/json
// accepts: json.Valid for the 0x14 value tag, and the key ring's text form.
// JSON.parse is not used because it reads text, not bytes (invalid UTF-8 in
// strings is allowed by Go), keeps only the last of repeated members, and
// keeps no number text (the ring's version must be written 1, not 1.0).

const MAX_DEPTH = 10000; // Go's scanner refuses deeper nesting

export class JSONError extends Error {
  /** at is the byte offset the error is at; past the last byte, the text ended early. */
  constructor(message, at) {
    super(`${message} at byte ${at}`);
    this.at = at;
  }
}

const isSpace = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c) => c >= 0x30 && c <= 0x39;
const isHex = (c) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/**
 * Reads one JSON value from bytes, with optional JSON whitespace around it
 * and nothing else. With build, returns it as
 * {kind: 'object', fields: [[name, value]...]} | {kind: 'array', items} |
 * {kind: 'string', text} | {kind: 'number', text} | {kind: 'literal', text};
 * without build it only validates. Object members are kept in order,
 * repeated names included. onNumber, if given, is called with each
 * number's text.
 */
export function readJSON(bytes, { build = false, onNumber } = {}) {
  const r = { b: bytes, i: 0, build, onNumber };
  skipSpace(r);
  const value = readValue(r);
  skipSpace(r);
  if (r.i !== bytes.length) throw new JSONError('invalid character after top-level value', r.i);
  return value;
}

/**
 * Returns the first number of the JSON text in bytes that JSON.parse would
 * not read exactly, or undefined: one beyond a double's range, a non-zero
 * one so small that it reads as 0 (1e-400), or an integer written without
 * fraction or exponent that a double cannot hold (Go reads it into an
 * int64 exactly).
 */
export function inexactNumber(bytes) {
  let found;
  readJSON(bytes, {
    onNumber(text) {
      if (found === undefined && changedByParse(text)) found = text;
    },
  });
  return found;
}

function changedByParse(text) {
  const n = Number(text);
  if (!Number.isFinite(n)) return true;
  if (n === 0) return /[1-9]/.test(text.split(/[eE]/)[0]); // underflow: 1e-400
  return /^-?\d+$/.test(text) && BigInt(n) !== BigInt(text);
}

/** Reports whether bytes hold exactly one JSON value, as Go's json.Valid. */
export function validJSON(bytes) {
  try {
    readJSON(bytes);
    return true;
  } catch (err) {
    if (err instanceof JSONError) return false;
    throw err;
  }
}

function skipSpace(r) {
  while (r.i < r.b.length && isSpace(r.b[r.i])) r.i++;
}

function fail(r, what) {
  throw new JSONError(what, r.i);
}

// readValue reads one value. Nesting is kept on an explicit stack, not the
// call stack, so the 10000 levels Go accepts cannot overflow it.
function readValue(r) {
  const stack = [];
  for (;;) {
    skipSpace(r);
    let value = open(r, stack);
    if (value === OPENED) continue;
    for (;;) {
      if (stack.length === 0) return value;
      const top = stack[stack.length - 1];
      if (r.build) top.kind === 'object' ? top.fields.push([top.name, value]) : top.items.push(value);
      skipSpace(r);
      const c = r.b[r.i++];
      if (c === (top.kind === 'object' ? 0x7d : 0x5d)) {
        value = stack.pop();
        delete value.name;
        continue;
      }
      if (c !== 0x2c) fail(r, `expected ',' or the end of an ${top.kind}`);
      if (top.kind === 'object') top.name = readName(r);
      break;
    }
  }
}

const OPENED = Symbol('opened');

// open reads a scalar, or opens an object or array: it returns the empty
// container when it closes at once, else pushes it and returns OPENED.
function open(r, stack) {
  if (r.i >= r.b.length) fail(r, 'unexpected end of JSON input');
  const c = r.b[r.i];
  if (c === 0x7b || c === 0x5b) {
    r.i++;
    if (stack.length + 1 > MAX_DEPTH) fail(r, 'exceeded max depth');
    const node = c === 0x7b ? { kind: 'object', fields: [] } : { kind: 'array', items: [] };
    skipSpace(r);
    if (r.b[r.i] === (c === 0x7b ? 0x7d : 0x5d)) {
      r.i++;
      return node;
    }
    if (c === 0x7b) node.name = readName(r);
    stack.push(node);
    return OPENED;
  }
  if (c === 0x22) return readString(r);
  if (c === 0x2d || isDigit(c)) return readNumber(r);
  for (const word of ['true', 'false', 'null']) {
    if (matchWord(r, word)) return { kind: 'literal', text: word };
  }
  return fail(r, 'invalid character');
}

function readName(r) {
  skipSpace(r);
  if (r.b[r.i] !== 0x22) fail(r, 'expected a string for an object key');
  const name = readString(r);
  skipSpace(r);
  if (r.b[r.i] !== 0x3a) fail(r, "expected ':' after an object key");
  r.i++;
  return r.build ? name.text : '';
}

function matchWord(r, word) {
  for (let k = 0; k < word.length; k++) {
    if (r.b[r.i + k] !== word.charCodeAt(k)) return false;
  }
  r.i += word.length;
  return true;
}

function readNumber(r) {
  const start = r.i;
  if (r.b[r.i] === 0x2d) r.i++;
  if (r.b[r.i] === 0x30) r.i++;
  else if (isDigit(r.b[r.i])) while (isDigit(r.b[r.i])) r.i++;
  else fail(r, 'invalid number');
  if (r.b[r.i] === 0x2e) {
    r.i++;
    if (!isDigit(r.b[r.i])) fail(r, 'invalid number');
    while (isDigit(r.b[r.i])) r.i++;
  }
  if (r.b[r.i] === 0x65 || r.b[r.i] === 0x45) {
    r.i++;
    if (r.b[r.i] === 0x2b || r.b[r.i] === 0x2d) r.i++;
    if (!isDigit(r.b[r.i])) fail(r, 'invalid number');
    while (isDigit(r.b[r.i])) r.i++;
  }
  if (!r.build && r.onNumber === undefined) return undefined;
  const text = utf8.decode(r.b.subarray(start, r.i));
  r.onNumber?.(text);
  return r.build ? { kind: 'number', text } : undefined;
}

const ESCAPES = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

// readString reads a string; its text, when built, is decoded as Go decodes
// it: escapes resolved, invalid UTF-8 and lone surrogates become U+FFFD.
function readString(r) {
  r.i++; // "
  let text = '';
  let run = r.i;
  const flush = (end) => {
    if (r.build) text += utf8.decode(r.b.subarray(run, end));
  };
  for (;;) {
    if (r.i >= r.b.length) fail(r, 'unexpected end of JSON input in a string');
    const c = r.b[r.i];
    if (c === 0x22) {
      flush(r.i);
      r.i++;
      return r.build ? { kind: 'string', text: text.toWellFormed() } : undefined;
    }
    if (c < 0x20) fail(r, 'invalid character in a string');
    if (c !== 0x5c) {
      r.i++;
      continue;
    }
    flush(r.i);
    text += readEscape(r);
    run = r.i;
  }
}

function readEscape(r) {
  const c = r.b[r.i + 1];
  if (ESCAPES[c] !== undefined) {
    r.i += 2;
    return ESCAPES[c];
  }
  if (c !== 0x75) fail(r, 'invalid escape in a string');
  for (let k = 2; k < 6; k++) {
    if (!isHex(r.b[r.i + k])) fail(r, 'invalid \\u escape in a string');
  }
  const unit = parseInt(utf8.decode(r.b.subarray(r.i + 2, r.i + 6)), 16);
  r.i += 6;
  return String.fromCharCode(unit);
}
