// Strict base64, written out because Buffer is a Node API and atob accepts
// what the wire format refuses. Both decoders follow Go's encoding/base64
// with Strict(): the same inputs are accepted, and the error offsets match
// Go's "illegal base64 data at input byte N".

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeMap(alphabet) {
  const map = new Uint8Array(256).fill(0xff);
  for (let i = 0; i < alphabet.length; i++) map[alphabet.charCodeAt(i)] = i;
  return map;
}

const URL_MAP = decodeMap(URL_ALPHABET);
const STD_MAP = decodeMap(STD_ALPHABET);

/** Go's CorruptInputError, as an offset into the input. */
export class Base64Error extends Error {
  constructor(offset) {
    super(`illegal base64 data at input byte ${offset}`);
    this.offset = offset;
  }
}

const isNewline = (c) => c === 0x0a || c === 0x0d;

/** base64url without padding: the token's encoding. */
export function encodeBase64URL(bytes) {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += URL_ALPHABET[n >> 18] + URL_ALPHABET[(n >> 12) & 63] + URL_ALPHABET[(n >> 6) & 63] + URL_ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += URL_ALPHABET[n >> 18] + URL_ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += URL_ALPHABET[n >> 18] + URL_ALPHABET[(n >> 12) & 63] + URL_ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Decodes src (bytes) the way Go's base64 decoders do with Strict(): CR and
 * LF are skipped, anything else outside the alphabet is an error, and the
 * unused bits of the last quantum must be zero. padded selects standard
 * base64 with '=' padding; otherwise unpadded base64url. Throws Base64Error.
 */
export function decodeBase64(src, padded) {
  const map = padded ? STD_MAP : URL_MAP;
  const out = new Uint8Array(Math.floor((src.length * 6) / 8));
  let n = 0;
  let si = 0;
  for (;;) {
    const q = decodeQuantum(src, si, map, padded);
    si = q.si;
    for (let k = 0; k < q.n; k++) out[n++] = q.bytes[k];
    if (q.done) return out.subarray(0, n);
  }
}

function decodeQuantum(src, si, map, padded) {
  const buf = [0, 0, 0, 0];
  let len = 4;
  for (let j = 0; j < 4; j++) {
    if (si === src.length) {
      if (j === 0) return { si, n: 0, done: true };
      if (j === 1 || padded) throw new Base64Error(si - j);
      len = j;
      break;
    }
    const c = src[si++];
    if (map[c] !== 0xff) {
      buf[j] = map[c];
      continue;
    }
    if (isNewline(c)) {
      j--;
      continue;
    }
    if (!padded || c !== 0x3d) throw new Base64Error(si - 1);
    si = padding(src, si, j);
    len = j;
    break;
  }
  const val = (buf[0] << 18) | (buf[1] << 12) | (buf[2] << 6) | buf[3];
  const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
  if (len === 3 && bytes[2] !== 0) throw new Base64Error(si - 1);
  if (len === 2 && (bytes[1] !== 0 || bytes[2] !== 0)) throw new Base64Error(si - 2);
  return { si, n: len - 1, bytes, done: len < 4 || si === src.length };
}

// padding checks what follows an '=' found at position j of a quantum, and
// returns the offset past it; only the end of the input may follow.
function padding(src, si, j) {
  if (j < 2) throw new Base64Error(si - 1);
  if (j === 2) {
    while (si < src.length && isNewline(src[si])) si++;
    if (si === src.length) throw new Base64Error(src.length);
    if (src[si] !== 0x3d) throw new Base64Error(si - 1);
    si++;
  }
  while (si < src.length && isNewline(src[si])) si++;
  if (si < src.length) throw new Base64Error(si);
  return si;
}
