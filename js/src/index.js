// cookiesession for JavaScript: opens and seals the tokens of the Go package
// github.com/seed-ff2808ae/cookiesession (wire format versions 1 and 2,
// FORMAT.md) in Node and edge runtimes. It needs no Node API: only
// WebCrypto's getRandomValues (and its SHA-256, for KeyRing.fingerprint),
// TextEncoder/TextDecoder, BigInt and @noble/ciphers.

export { parseKeyRing, KeyRing } from './keyring.js';
export { Codec, SessionError, MIN_TOKEN_LEN } from './codec.js';
export { SessionCookies } from './cookies.js';
export { Values, GoTime, TAGS } from './values.js';
