// Cross-language tests: the Go package (through js/interop) and this port
// seal and open each other's tokens and cookies, generated during the run,
// and agree on what they refuse.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Codec, parseKeyRing, SessionCookies, SessionError, Values } from '../src/index.js';
import { validJSON } from '../src/json.js';
import { fromWire, goInterop, hex, normal, repoRoot, ringText, toWire, unhex } from './helpers.js';

const enc = (s) => hex(new TextEncoder().encode(s));
const key1 = { id: 0x1a2b3c4d, secret: Uint8Array.from({ length: 32 }, (_, i) => i) };
const key2 = { id: 0xdeadbeef, secret: Uint8Array.from({ length: 32 }, (_, i) => 255 - i) };
const ring = ringText([key1, key2]);
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const at = (sec) => new Date(sec * 1000);

// Every value type at its edges, in the interop program's lossless form.
function edgeValues() {
  const out = [];
  const add = (key, type, fields) => out.push({ key: enc(key), type, ...fields });
  const ints = {
    int: [-(2n ** 63n), 2n ** 63n - 1n], int8: [-128n, 127n], int16: [-32768n, 32767n], int32: [-(2n ** 31n), 2n ** 31n - 1n],
    int64: [-(2n ** 63n), 2n ** 63n - 1n], uint: [0n, 2n ** 64n - 1n], uint8: [0n, 255n], uint16: [0n, 65535n],
    uint32: [0n, 2n ** 32n - 1n], uint64: [0n, 2n ** 64n - 1n], 'time.Duration': [-(2n ** 63n), 2n ** 63n - 1n],
  };
  for (const [type, [lo, hi]] of Object.entries(ints)) {
    for (const [edge, n] of [['min', lo], ['max', hi], ['minus_one', -1n], ['zero', 0n]]) {
      if (n >= lo) add(`${type}_${edge}`, type, { value: String(n) });
    }
  }
  const f32 = ['7fc00001', 'ff800000', '80000000', '00000001', '7f7fffff', '3dcccccd'];
  const f64 = ['7ff8000000000001', 'fff0000000000000', '8000000000000000', '0000000000000001', '7fefffffffffffff', '3fb999999999999a'];
  f32.forEach((bits, i) => add(`float32_${i}`, 'float32', { bits }));
  f64.forEach((bits, i) => add(`float64_${i}`, 'float64', { bits }));
  add('bool_true', 'bool', { value: 'true' });
  add('bool_false', 'bool', { value: 'false' });
  add('nil', 'nil', {});
  add('', 'string', { hex: enc('the empty key') });
  out.push({ key: 'ff00fe', type: 'string', hex: 'c328' }); // neither key nor value is UTF-8
  add('string_empty', 'string', { hex: '' });
  add('string_nul_emoji', 'string', { hex: enc('a\u0000b 🍪 日本') });
  // Kept byte for byte: a leading BOM (which a default TextDecoder drops), U+FFFD itself,
  // and a UTF-16 surrogate and an overlong "/" in UTF-8 (which a lenient one turns into U+FFFD).
  add('string_bom', 'string', { hex: 'efbbbf61' });
  add('string_fffd', 'string', { hex: 'efbfbd' });
  add('string_surrogate', 'string', { hex: 'eda080' });
  add('string_overlong', 'string', { hex: 'c0af' });
  add('bytes_empty', '[]byte', { hex: '' });
  add('bytes_all', '[]byte', { hex: hex(Uint8Array.from({ length: 256 }, (_, i) => i)) });
  add('time_zero', 'time.Time', { unix: '-62135596800', nsec: 0, offset: 0 });
  add('time_before_epoch', 'time.Time', { unix: '-1', nsec: 500000000, offset: 0 });
  add('time_offset_max', 'time.Time', { unix: '1767225600', nsec: 999999999, offset: 86399 });
  add('time_offset_min', 'time.Time', { unix: '1767225600', nsec: 1, offset: -86399 });
  add('time_far', 'time.Time', { unix: String(2n ** 62n), nsec: 0, offset: 3600 });
  add('list_empty', '[]string', { list: [] });
  add('list', '[]string', { list: [enc(''), 'fffe', enc('ü'), enc('x'.repeat(200))] });
  add('map_empty', 'map[string]string', { map: [] });
  add('map', 'map[string]string', { map: [[enc(''), enc('empty key')], ['c3', 'ff'], [enc('Z'), enc('upper')], [enc('a'), enc('')]] });
  add('json_object', 'json.RawMessage', { hex: enc(' {"a": [1, 2.5e-3, "\\u00e9", true, null], "b": {}} ') });
  add('json_scalar', 'json.RawMessage', { hex: enc('-0') });
  add('json_deep', 'json.RawMessage', { hex: enc('['.repeat(10000) + ']'.repeat(10000)) });
  add('json_raw_bytes', 'json.RawMessage', { hex: hex(Uint8Array.of(0x22, 0xff, 0xfe, 0x22)) });
  return out;
}

// The edge values hold a 20 kB JSON value: both sides allow long tokens.
const MAX_LEN = 65536;
const codecRequest = (extra) => ({ ring, name: 'session', now: NOW, max_age: 86400, max_token_len: MAX_LEN, ...extra });
const jsCodec = (opts = {}) => new Codec(parseKeyRing(ring), { name: 'session', maxAge: 86400, maxTokenLen: MAX_LEN, ...opts });

describe('Go and JS tokens, both ways', () => {
  const edges = edgeValues();

  it('a token sealed by Go opens in JS with identical values and types', () => {
    const [sealed] = goInterop([{ op: 'seal', ...codecRequest({ idle: 600, values: edges }) }]);
    assert.ok(sealed.token, JSON.stringify(sealed));
    const record = jsCodec({ idleTimeout: 600 }).open(sealed.token, at(NOW));
    assert.deepEqual(toWire(record.values), normal(sealed.values));
    assert.deepEqual(normal(sealed.values), normal([...edges].sort((a, b) => compareHexKeys(a.key, b.key))));
    assert.equal(hex(record.id), sealed.id);
    assert.equal(record.created, BigInt(sealed.created));
    assert.equal(record.expires, BigInt(NOW + 600));
    assert.equal(record.keyId, key1.id);
    // What plain JavaScript gets from get(): a test of typeof 'string' or m.theme would fail.
    const js = { int64: 'bigint', uint64: 'bigint', 'time.Duration': 'bigint', '[]byte': Uint8Array, '[]string': Array, 'map[string]string': Map };
    for (const [key, { type }] of record.values.entries()) {
      const want = js[type], got = record.values.get(key);
      if (typeof want === 'string') assert.equal(typeof got, want, key);
      else if (want) assert.ok(got instanceof want, `${key}: ${type}`);
    }
  });

  it('a token sealed by JS opens in Go with identical values and types', () => {
    const values = fromWire(edges);
    const record = { values };
    const token = jsCodec({ idleTimeout: 600 }).seal(record, at(NOW));
    const [opened] = goInterop([{ op: 'open', ...codecRequest({ idle: 600, token }) }]);
    assert.equal(opened.error, undefined, opened.reason);
    assert.deepEqual(normal(opened.values), toWire(values));
    assert.equal(opened.id, hex(record.id));
    assert.equal(BigInt(opened.created), record.created);
    assert.equal(BigInt(opened.expires), BigInt(NOW + 600));
    assert.equal(opened.key_id, key1.id);
  });

  it('a Go token opened and re-sealed in JS gives Go back what it stored', () => {
    const [sealed] = goInterop([{ op: 'seal', ...codecRequest({ values: edges }) }]);
    const record = jsCodec().open(sealed.token, at(NOW + 5));
    record.values.set('added_in_js', 7, 'int16');
    const token = jsCodec().seal(record, at(NOW + 5));
    const [opened] = goInterop([{ op: 'open', ...codecRequest({ now: NOW + 5, token }) }]);
    assert.equal(opened.error, undefined, opened.reason);
    const expected = normal(sealed.values).concat({ key: enc('added_in_js'), type: 'int16', value: '7' });
    assert.deepEqual(normal(opened.values), expected.sort((a, b) => compareHexKeys(a.key, b.key)));
    assert.equal(opened.id, sealed.id, 'the id is kept');
    assert.equal(opened.created, sealed.created, 'created is kept');
    assert.equal(opened.expires, sealed.expires, 'a set expires is kept');
  });

  it('refuses exactly what Go refuses, for the same reasons', () => {
    const [sealed] = goInterop([{ op: 'seal', ...codecRequest({ values: edges.slice(0, 3) }) }]);
    const cases = mutations(sealed.token);
    const goAnswers = goInterop(cases.map(({ token, now, maxAge }) => ({ op: 'open', ...codecRequest({ token, now, max_age: maxAge }) })));
    assert.ok(cases.length > sealed.token.length + 30);
    cases.forEach(({ token, now, maxAge, what }, i) => {
      let js;
      try {
        jsCodec({ maxAge }).open(token, at(now));
        js = { error: undefined, reason: undefined };
      } catch (err) {
        assert.ok(err instanceof SessionError, String(err));
        js = { error: err.kind, reason: err.reason };
      }
      assert.deepEqual(js, { error: goAnswers[i].error, reason: goAnswers[i].reason }, what);
    });
  });
});

describe('a Go time.Time read in JS', () => {
  // 1900-01-01 in Europe/Amsterdam, whose offset then was +00:19:32 (Go's
  // LoadLocation gives it), and the first second of the year 10000.
  const times = [
    { key: enc('amsterdam_1900'), type: 'time.Time', unix: '-2208989972', nsec: 0, offset: 1172 },
    { key: enc('year_10000'), type: 'time.Time', unix: '253402300800', nsec: 0, offset: 0 },
    { key: enc('paid_until'), type: 'time.Time', unix: String(NOW + 3600), nsec: 123456789, offset: 3600 },
  ];

  it('is no number and no text to Date or <, which would read another instant or NaN without a word', () => {
    const [sealed] = goInterop([{ op: 'seal', ...codecRequest({ values: times }) }]);
    const { values } = jsCodec().open(sealed.token, at(NOW));
    for (const { key, unix, nsec } of times) {
      const t = values.get(unhex(key));
      assert.equal(t.toDate().getTime(), Number(unix) * 1000 + Math.floor(nsec / 1e6), 'toDate gives the instant Go stored');
      // new Date(t) read its text: 32 s late at +00:19:32, an Invalid Date past 9999.
      assert.throws(() => new Date(t), { name: 'TypeError', message: /^cookiesession: a GoTime is not a Date.*toDate\(\)/ });
      // t < date compared NaN with a number: false both ways.
      assert.throws(() => t < at(NOW), /^TypeError: cookiesession: a GoTime is not a Date/);
      assert.throws(() => t > at(NOW), /^TypeError: cookiesession: a GoTime is not a Date/);
      assert.throws(() => t - at(NOW), /^TypeError: cookiesession: a GoTime is not a Date/);
      assert.throws(() => Number(t), /^TypeError: cookiesession: a GoTime is not a Date/);
      assert.throws(() => t < values.get('paid_until'), /^TypeError: cookiesession: a GoTime is not a Date/, 'two GoTimes compared as text');
      assert.throws(() => '' + t, /^TypeError: cookiesession: a GoTime is not a Date/, 'give String(t)');
      assert.equal(`${t}`, String(t), 'text where text is asked for');
    }
    assert.equal(String(values.get('paid_until')), '2026-01-01T02:00:00.123456789+01:00');
    assert.ok(values.get('paid_until').toDate() > at(NOW));
  });
});

describe('records Go refuses to seal', () => {
  it('refuses them in JS too, with the same message', () => {
    // Times near 2^62 are left to api.test.js: JSON numbers cannot carry them exactly.
    const cases = [NOW + 60, NOW + 61, NOW + 86400 * 365 * 8000, -1, -(2 ** 40), NOW - 86400, NOW - 86399];
    const goAnswers = goInterop(cases.map((created) => ({ op: 'seal', ...codecRequest({ created }) })));
    cases.forEach((created, i) => {
      let js;
      try {
        const record = { created: BigInt(created) };
        jsCodec().seal(record, at(NOW));
        js = { expires: record.expires };
      } catch (err) {
        js = { error: err instanceof SessionError ? err.kind : 'other', reason: err instanceof SessionError ? err.reason : err.message };
      }
      const go = goAnswers[i].error ? { error: goAnswers[i].error, reason: goAnswers[i].reason } : { expires: BigInt(goAnswers[i].expires) };
      assert.deepEqual(js, go, `created ${created}`);
    });
  });
});

function compareHexKeys(a, b) {
  return a < b ? -1 : a > b ? 1 : 0; // lowercase hex sorts as the bytes do
}

// mutations derives tokens and clocks around a valid token: every character
// replaced, characters inserted and cut, and opening times around each deadline.
function mutations(token) {
  const cases = [];
  const add = (t, what, now = NOW, maxAge = 86400) => cases.push({ token: t, now, maxAge, what });
  for (let i = 0; i < token.length; i++) {
    const c = token[i] === 'A' ? 'B' : 'A';
    add(token.slice(0, i) + c + token.slice(i + 1), `char ${i} replaced`);
  }
  for (const extra of ['=', '==', ' ', '\n', '\r\n', '+', '/', 'A', 'AA', 'é', '\u0000']) {
    add(token + extra, `${JSON.stringify(extra)} appended`);
    add(token.slice(0, 50) + extra + token.slice(50), `${JSON.stringify(extra)} inside`);
  }
  for (const cut of [1, 2, 3, 4, 5, 20, token.length - 103, token.length - 104]) add(token.slice(0, token.length - cut), `${cut} cut`);
  for (const dt of [-86400, -61, -60, 0, 86399, 86400, 86401]) add(token, `opened ${dt}s later`, NOW + dt);
  for (const maxAge of [1, 3600, 86400, 10 ** 9]) add(token, `maxAge ${maxAge}`, NOW + 3600, maxAge);
  add('x'.repeat(65537), 'too long');
  add('', 'empty');
  return cases;
}

describe('lifetimes of their own (version 2), both ways', () => {
  // Opener options: a ceiling above, at and below the default MaxAge (one
  // below the codec's own maxAge is refused by both constructors).
  const settings = [
    { max_age: 86400, idle: 0, max_lifetime: 7776000 },
    { max_age: 86400, idle: 600, max_lifetime: 0 },
    { max_age: 1800, idle: 0, max_lifetime: 3600 },
  ];
  const lifetimes = [
    null,
    { max_age: 2592000, idle: 0, browser_session: false },
    { max_age: 0, idle: 1800, browser_session: true },
    { max_age: 600, idle: 60, browser_session: false },
    { max_age: 0, idle: 0, browser_session: true },
    { max_age: 4294967295, idle: 4294967295, browser_session: false },
  ];
  const toJS = (l) => (l === null ? null : { maxAge: l.max_age, idleTimeout: l.idle, browserSession: l.browser_session });
  const codecFor = (o) => jsCodec({ maxAge: o.max_age, idleTimeout: o.idle, ...(o.max_lifetime ? { maxLifetime: o.max_lifetime } : {}) });
  const small = [{ key: enc('user_id'), type: 'string', hex: enc('u_8f3a2c') }];
  // A new record's lifetime over maxLifetime is refused in both, a
  // RangeError here and a plain error in Go, in each one's names.
  const overCeiling = /^cookiesession: [Rr]ecord\.[Ll]ifetime\.(\w)(\w+) \S+( s)? is longer than the codec's [Mm]axLifetime /;
  const asked = (reason) => reason.replace(overCeiling, (_, a, b) => `lifetime.${a.toLowerCase()}${b} over maxLifetime: `).replace(/:.*/, '');
  const outcome = (f) => {
    try {
      return f();
    } catch (err) {
      if (err instanceof RangeError && overCeiling.test(err.message)) return { error: 'other', reason: asked(err.message) };
      assert.ok(err instanceof SessionError, String(err));
      return { error: err.kind, reason: err.reason };
    }
  };
  const version = (token) => Buffer.from(token, 'base64url')[0];

  // A record opened (keyId set) with a lifetime over the ceiling is sealed
  // cut to it, in both; a new one is refused.
  it('JS seals as Go does: the same version, deadline and lifetime, and each opens the other', () => {
    const cases = [];
    for (const o of settings) for (const l of lifetimes) for (const created of [NOW, NOW - 7200]) for (const keyId of [0, key1.id]) cases.push({ o, l, created, keyId });
    const goSealed = goInterop(cases.map(({ o, l, created, keyId }) => ({ op: 'seal', ...codecRequest({ ...o, created, key_id: keyId, values: small }), ...(l ? { lifetime: l } : {}) })));
    const jsSealed = cases.map(({ o, l, created, keyId }) => {
      const record = { created: BigInt(created), lifetime: toJS(l), values: fromWire(small), ...(keyId ? { keyId } : {}) };
      return outcome(() => ({ token: codecFor(o).seal(record, at(NOW)), expires: record.expires }));
    });
    const goOpened = goInterop(cases.map(({ o }, i) => ({ op: 'open', ...codecRequest({ ...o, token: jsSealed[i].token ?? '' }) })));
    let sealed = 0;
    let cut = 0;
    let refused = 0;
    cases.forEach(({ o, l, created, keyId }, i) => {
      const what = `options ${JSON.stringify(o)}, lifetime ${JSON.stringify(l)}, created ${created - NOW}, ${keyId ? 'opened' : 'new'}`;
      const go = goSealed[i];
      const js = jsSealed[i];
      if (go.error) {
        if (go.error === 'other') refused++;
        assert.deepEqual(js, { error: go.error, reason: go.error === 'other' ? asked(go.reason) : go.reason }, what);
        return;
      }
      sealed++;
      if (l && Math.max(l.max_age, l.idle) > (o.max_lifetime || o.max_age)) cut++;
      assert.equal(js.expires, BigInt(go.expires), `${what}: deadline`);
      assert.equal(version(js.token), l === null ? 1 : 2, `${what}: version`);
      assert.equal(version(go.token), version(js.token), `${what}: Go's version`);
      assert.equal(js.token.length, go.token.length, what);
      // Go opens the JS token, and JS opens Go's, with the lifetime sealed.
      assert.equal(goOpened[i].error, undefined, `${what}: ${goOpened[i].reason}`);
      assert.deepEqual(goOpened[i].lifetime, l ?? undefined, what);
      assert.equal(BigInt(goOpened[i].expires), js.expires, what);
      const record = codecFor(o).open(go.token, at(NOW));
      assert.deepEqual(record.lifetime, toJS(l), what);
      assert.equal(record.expires, BigInt(go.expires), what);
    });
    assert.ok(sealed >= 40 && sealed < cases.length, `${sealed} of ${cases.length} sealed`);
    assert.ok(cut >= 6 && refused === cut, `${cut} opened records cut, ${refused} new ones refused`);
  });

  it('a lowered maxLifetime or MaxAge cuts sessions in both, for the same reasons', () => {
    const rememberMe = { max_age: 2592000, idle: 0, browser_session: false };
    const [sealed] = goInterop([{ op: 'seal', ...codecRequest({ max_lifetime: 7776000, created: NOW - 2 * 86400, lifetime: rememberMe, values: small }) }]);
    assert.equal(sealed.expires, NOW + 28 * 86400, JSON.stringify(sealed));
    const cases = [];
    for (const dt of [0, 86400, 28 * 86400 - 1, 28 * 86400]) {
      for (const o of [...settings, { max_age: 3600, idle: 0, max_lifetime: 0 }, { max_age: 3600, idle: 0, max_lifetime: 2 * 86400 }, { max_age: 3600, idle: 0, max_lifetime: 2592000 }]) {
        cases.push({ now: NOW + dt, o });
      }
    }
    const goAnswers = goInterop(cases.map(({ now, o }) => ({ op: 'open', ...codecRequest({ ...o, now, token: sealed.token }) })));
    let refused = 0;
    cases.forEach(({ now, o }, i) => {
      const js = outcome(() => {
        const record = codecFor(o).open(sealed.token, at(now));
        return { expires: record.expires, lifetime: record.lifetime };
      });
      const go = goAnswers[i].error
        ? { error: goAnswers[i].error, reason: goAnswers[i].reason }
        : { expires: BigInt(goAnswers[i].expires), lifetime: toJS(goAnswers[i].lifetime) };
      if (go.error) refused++;
      assert.deepEqual(js, go, `opened ${now - NOW}s later with ${JSON.stringify(o)}`);
    });
    assert.ok(refused > 5 && refused < cases.length - 5, `${refused} of ${cases.length} refused`);
  });

  it('agrees with Go on hand-built version 2 plaintexts', () => {
    const header = (created, expires) => {
      const b = new Uint8Array(32);
      const view = new DataView(b.buffer);
      view.setBigUint64(0, BigInt(created));
      view.setBigUint64(8, BigInt(expires));
      b.fill(7, 16);
      return b;
    };
    const life = (maxAge, idle, flags) => {
      const b = new Uint8Array(9);
      new DataView(b.buffer).setUint32(0, maxAge);
      new DataView(b.buffer).setUint32(4, idle);
      b[8] = flags;
      return b;
    };
    const h = header(NOW - 10, NOW + 100);
    const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => [...p]));
    const plains = [
      [2, cat(h, life(0, 0, 1), [0])],
      [2, cat(h, life(300, 0, 0), [0])],
      [2, cat(h, life(0, 30, 0), [0])],
      [2, cat(h, life(5, 0, 0), [0])],
      [2, cat(h, life(2 ** 32 - 1, 2 ** 32 - 1, 1), [0])],
      [2, cat(h, life(0, 0, 0), [0])],
      [2, cat(h, life(0, 0, 2), [0])],
      [2, cat(h, life(0, 0, 3), [0])],
      [2, cat(h, life(0, 0, 0x80), [0])],
      [2, cat(h, life(60, 0, 0))],
      [2, cat(h, [0])],
      [2, cat(h, life(60, 0, 0), [0, 0])],
      [2, cat(h, life(60, 0, 0), [1, 1, 0x61, 0x03, 0x01])],
      [2, cat(header(NOW + 61, NOW + 100), life(0, 0, 0), [0])],
      [2, cat(header(NOW - 10, NOW), life(60, 0, 0), [0])],
      [2, cat(header(2 ** 62 + 1, NOW + 100), life(60, 0, 0), [0])],
      [1, cat(h, life(60, 0, 0), [0])],
      [1, cat(h, [0])],
      [3, cat(h, life(60, 0, 0), [0])],
    ];
    const tokens = plains.map(([v, plain]) => sealRaw(v, plain));
    const goAnswers = goInterop(tokens.map((token) => ({ op: 'open', ...codecRequest({ token }) })));
    let opened = 0;
    tokens.forEach((token, i) => {
      const js = outcome(() => {
        const record = jsCodec().open(token, at(NOW));
        return { expires: record.expires, lifetime: record.lifetime };
      });
      const go = goAnswers[i].error
        ? { error: goAnswers[i].error, reason: goAnswers[i].reason }
        : { expires: BigInt(goAnswers[i].expires), lifetime: toJS(goAnswers[i].lifetime ?? null) };
      if (!go.error) opened++;
      assert.deepEqual(js, go, `plaintext ${i}: version ${plains[i][0]}, ${hex(plains[i][1])}`);
    });
    assert.ok(opened >= 5 && opened < plains.length - 8, `${opened} opened`);
  });
});

describe("a refused key, quoted as Go's %q quotes it", () => {
  it('gives the reason Go gives, byte for byte, for keys that are not printable or not UTF-8', () => {
    const head = new Uint8Array(32);
    new DataView(head.buffer).setBigUint64(0, BigInt(NOW - 10));
    new DataView(head.buffer).setBigUint64(8, BigInt(NOW + 100));
    const keys = ['00', '7f', '09225c', 'fe01', 'e2808b', 'c2ad', 'c285', 'f3a08081', 'ff', enc('é'), enc('😀'), 'efbbbf', 'efbfbd', 'f09f98', 'eda080', 'c0af', 'f4908080', '07080b0c0d0a'];
    const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => [...(typeof p === 'string' ? unhex(p) : p)]));
    const plains = keys.flatMap((k) => {
      const key = unhex(k);
      return [
        cat(head, [2, 2, 0xff, 0xff, 0, key.length], key, [0]), // out of order after "\xff\xff"
        cat(head, [1, 1, 0x6d, 0x13, 2, 2, 0xff, 0xff, 0, key.length], key, [0]), // map key out of order
        cat(head, [1, key.length], key, [0x14, 1, 0x7b]), // invalid JSON for the key
      ];
    });
    const tokens = plains.map((plain) => sealRaw(1, plain));
    const goAnswers = goInterop(tokens.map((token) => ({ op: 'open', ...codecRequest({ token }) })));
    tokens.forEach((token, i) => {
      let js;
      try {
        js = jsCodec().open(token, at(NOW));
      } catch (err) {
        js = { error: err.kind, reason: err.reason };
      }
      assert.equal(goAnswers[i].error, 'invalid', goAnswers[i].reason);
      assert.deepEqual(js, { error: 'invalid', reason: goAnswers[i].reason }, `plaintext ${hex(plains[i])}`);
    });
  });
});

describe('mutated values sections, against Go', () => {
  it('opens what Go opens, with the same values, and refuses the rest for the same reasons', () => {
    let seed = 20261201; // a fixed sequence: a failure names a plaintext that fails again
    const rnd = (n) => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % n;
    const section = [...new Values().set('a', 'x').set('b', 5, 'int32').set('c', ['p', 'q']).set('d', new Map([['k', 'v'], ['l', 'w']]))
      .set('e', 1.5, 'float32').set('f', 7n, 'uint64').set('g', '{"z":[1,2]}', 'json.RawMessage').set('h', Uint8Array.of(0xff, 0xc3, 0x28), 'string')
      .set('i', true).set('j', null).set('t', new Date(1e12)).set('u', 'y'.repeat(130)).set('😀', ['z'.repeat(130)]).encode()];
    const head = new Uint8Array(32);
    new DataView(head.buffer).setBigUint64(0, BigInt(NOW - 10));
    new DataView(head.buffer).setBigUint64(8, BigInt(NOW + 100));
    const plains = Array.from({ length: 2000 }, () => {
      const b = section.slice();
      for (let m = 1 + rnd(3); m > 0; m--) {
        const [op, at, byte] = [rnd(4), rnd(b.length + 1), [0, 1, 0x7f, 0x80, 0xff, 0x13, 0x14, 0x22, 0x5b, rnd(256)][rnd(10)]];
        if (op === 0) b.splice(at, 0, byte); // insert
        else if (op === 1) b.splice(at, 1); // delete
        else if (at < b.length) b[at] = op === 2 ? byte : b[at] ^ (1 << rnd(8)); // replace, flip
      }
      return Uint8Array.from([...head, ...b]);
    });
    const tokens = plains.map((plain) => sealRaw(1, plain));
    const goAnswers = goInterop(tokens.map((token) => ({ op: 'open', ...codecRequest({ token }) })));
    let opened = 0;
    tokens.forEach((token, i) => {
      let js;
      try {
        js = { values: normal(toWire(jsCodec().open(token, at(NOW)).values)) };
      } catch (err) {
        assert.ok(err instanceof SessionError, String(err));
        js = { error: err.kind, reason: err.reason };
      }
      const go = goAnswers[i].error ? { error: goAnswers[i].error, reason: goAnswers[i].reason } : { values: normal(goAnswers[i].values) };
      if (!go.error) opened++;
      assert.deepEqual(js, go, `values section ${hex(plains[i].subarray(32))}`);
    });
    assert.ok(opened > 200 && opened < 1800, `${opened} opened`);
  });
});

// sealRaw seals any plaintext under key1 with any version byte, as a
// forger holding the key could: the checks after authentication see it.
function sealRaw(version, plain) {
  const head = new Uint8Array(29);
  head[0] = version;
  new DataView(head.buffer).setUint32(1, key1.id);
  crypto.getRandomValues(head.subarray(5));
  const ad = Uint8Array.from([...head.subarray(0, 5), ...new TextEncoder().encode('session')]);
  const sealed = xchacha20poly1305(key1.secret, head.subarray(5), ad).encrypt(plain);
  return Buffer.concat([head, sealed]).toString('base64url');
}

describe('chunked cookies, both ways', () => {
  const config = { name: '__Host-sid', max_chunks: 4, max_cookie_size: 1200 };
  const big = [
    { key: enc('blob'), type: 'string', hex: enc('x'.repeat(2500)) },
    { key: enc('n'), type: 'int', value: '42' },
  ];
  const jsCookies = () => new SessionCookies(parseKeyRing(ring), { name: '__Host-sid', maxChunks: 4, maxCookieSize: 1200 });
  // The lines a browser keeps: a token over several cookies also expires
  // every higher chunk (FORMAT.md section 5).
  const live = (setCookies) => setCookies.filter((line) => !line.includes('; Max-Age=0'));
  const header = (setCookies) => live(setCookies).map((line) => line.split(';')[0]).join('; ');

  it('JS reads the chunks a Go Manager writes', () => {
    const [saved] = goInterop([{ op: 'manager_seal', ring, now: NOW, max_age: 86400, values: big, ...config }]);
    assert.equal(live(saved.set_cookie).length, 3, JSON.stringify(saved));
    assert.match(saved.set_cookie[3], /^__Host-sid\.3=; Path=\/; Max-Age=0;/, 'and expires the chunk above');
    const record = jsCookies().open(`other=1; ${header(saved.set_cookie)}`, at(NOW));
    assert.deepEqual(toWire(record.values), normal(big));
    assert.equal(jsCookies().chunksSent(header(saved.set_cookie)), 3);
  });

  it('a Go Manager reads the chunks JS writes, split as Go splits them', () => {
    const lines = jsCookies().seal({ values: fromWire(big) }, at(NOW), 0); // a request without the cookie, as Go's
    const [saved] = goInterop([{ op: 'manager_seal', ring, now: NOW, max_age: 86400, values: big, ...config }]);
    const shape = (ls) => ls.map((l) => [l.split('=')[0], l.split(';')[0].length, l.slice(l.indexOf(';'))]);
    assert.deepEqual(shape(lines), shape(saved.set_cookie));
    const [opened] = goInterop([{ op: 'manager_open', ring, now: NOW, max_age: 86400, cookie: header(lines), ...config }]);
    assert.equal(opened.error, undefined, opened.reason);
    assert.equal(opened.is_new, undefined);
    assert.deepEqual(normal(opened.values), normal(big));
  });

  it("a session's own lifetime decides Max-Age, as in Go's Manager, and Go reads it back", () => {
    const cases = [
      [{ max_age: 0, idle: 1800, browser_session: true }, false],
      [{ max_age: 2592000, idle: 0, browser_session: false }, true],
      [null, true],
      [null, false],
      // A zero lifetime under the browserSession option asks for a persistent cookie, as Go's SetLifetime(Lifetime{}).
      [{ max_age: 0, idle: 0, browser_session: false }, true],
      [{ max_age: 0, idle: 0, browser_session: false }, false],
    ];
    for (const [l, browserSession] of cases) {
      const what = `lifetime ${JSON.stringify(l)}, browserSession option ${browserSession}`;
      const opts = { name: '__Host-sid', maxChunks: 4, maxCookieSize: 1200, maxLifetime: 7776000, browserSession };
      const record = { values: fromWire(big), lifetime: l && { maxAge: l.max_age, idleTimeout: l.idle, browserSession: l.browser_session } };
      const lines = new SessionCookies(parseKeyRing(ring), opts).seal(record, at(NOW), 0);
      const goConfig = { ...config, ring, now: NOW, max_age: 86400, max_lifetime: 7776000, browser_session: browserSession, ...(l ? { lifetime: l } : {}) };
      const [saved] = goInterop([{ op: 'manager_seal', values: big, ...goConfig }]);
      const shape = (ls) => ls.map((line) => [line.split('=')[0], line.split(';')[0].length, line.slice(line.indexOf(';'))]);
      assert.deepEqual(shape(lines), shape(saved.set_cookie), what);
      const persistent = l === null ? !browserSession : !l.browser_session;
      assert.equal(lines.every((line) => line.includes('; Max-Age=')), persistent, what);
      if (persistent) assert.match(lines[0], new RegExp(`; Max-Age=${record.expires - BigInt(NOW)};`), what);
      const [opened] = goInterop([{ op: 'manager_open', cookie: header(lines), ...goConfig }]);
      assert.equal(opened.error, undefined, opened.reason);
      assert.equal(BigInt(opened.expires), record.expires, what);
      assert.deepEqual(normal(opened.values), normal(big), what);
    }
  });

  it('expires the chunks a smaller session no longer needs, with the lines Go writes', () => {
    const small = jsCookies().seal({ values: fromWire(big.slice(1)) }, at(NOW), 3);
    assert.deepEqual(small.map((l) => l.split(';')[0].split('=')[0]), ['__Host-sid', '__Host-sid.1', '__Host-sid.2']);
    // Three refused chunks: Go's Manager writes the session in one and expires the others.
    const sent = '__Host-sid=x; __Host-sid.1=y; __Host-sid.2=z';
    const [saved] = goInterop([{ op: 'manager_seal', ring, now: NOW, max_age: 86400, values: big.slice(1), cookie: sent, ...config }]);
    assert.equal(saved.set_cookie.length, 3, JSON.stringify(saved));
    assert.deepEqual(small.slice(1), saved.set_cookie.slice(1));
    assert.equal(small[1], '__Host-sid.1=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax');
  });

  it("expires the cookie of a session left with no values, as Go's Manager does, where it once sealed it with the session's id and lifetime", () => {
    const goConfig = { ...config, ring, now: NOW, max_age: 86400, max_lifetime: 2592000 };
    const remembered = { max_age: 2592000, idle: 0, browser_session: false };
    for (const values of [big, big.slice(1)]) { // over three cookies, and in one
      const [signedIn] = goInterop([{ op: 'manager_seal', values, lifetime: remembered, ...goConfig }]);
      const sent = header(signedIn.set_cookie);
      // Go: a logout that deletes every value (or Clear) expires the cookie.
      const [loggedOut] = goInterop([{ op: 'manager_seal', cookie: sent, clear_values: true, ...goConfig }]);
      assert.ok(loggedOut.set_cookie.every((line) => line.includes('; Max-Age=0')), JSON.stringify(loggedOut));
      const cookies = new SessionCookies(parseKeyRing(ring), { name: '__Host-sid', maxChunks: 4, maxCookieSize: 1200, maxLifetime: 2592000 });
      const record = cookies.open(sent, at(NOW));
      for (const key of record.values.keys()) record.values.delete(key);
      record.expires = undefined;
      const lines = cookies.seal(record, at(NOW), cookies.chunksSent(sent));
      assert.deepEqual(lines, loggedOut.set_cookie, 'not a token that keeps the id and the 30-day lifetime for the next login');
      assert.deepEqual(cookies.seal({ ...record }, at(NOW), cookies.chunksSent(sent)), loggedOut.set_cookie, 'a copy too');
      assert.deepEqual(cookies.seal({ ...record, lifetime: null }, at(NOW), cookies.chunksSent(sent)), loggedOut.set_cookie, 'forget me too');
      // The lifetime the token carries, set again before the deletes (an edge middleware's, every
      // request), as Go's SetLifetime before Delete (TestLifetimeEveryRequestLogoutByDelete).
      const reapplied = cookies.open(sent, at(NOW));
      reapplied.lifetime = { maxAge: 2592000 };
      for (const key of reapplied.values.keys()) reapplied.values.delete(key);
      assert.deepEqual(cookies.seal(reapplied, at(NOW), cookies.chunksSent(sent)), loggedOut.set_cookie, 'the same lifetime set again before a logout');
      // A lifetime set after the deletes keeps the session, as Go's SetLifetime after Clear.
      const week = { max_age: 604800, idle: 0, browser_session: false };
      const [kept] = goInterop([{ op: 'manager_seal', cookie: sent, clear_values: true, lifetime: week, ...goConfig }]);
      const shape = (ls) => ls.map((line) => [line.split('=')[0], line.slice(line.indexOf(';'))]);
      const again = cookies.open(sent, at(NOW));
      for (const key of again.values.keys()) again.values.delete(key);
      again.lifetime = { maxAge: 604800 };
      assert.deepEqual(shape(cookies.seal(again, at(NOW), cookies.chunksSent(sent))), shape(kept.set_cookie), JSON.stringify(kept));
      // A session that held no values (a lifetime set before sign-in) is kept, as Go keeps it: nothing was deleted.
      const emptyKept = cookies.seal(again, at(NOW), cookies.chunksSent(sent));
      const reopened = cookies.open(header(emptyKept), at(NOW));
      assert.equal(reopened.values.size, 0);
      assert.equal(cookies.seal({ ...reopened }, at(NOW), 1).filter((line) => !line.includes('; Max-Age=0')).length, 1);
      const [goKept] = goInterop([{ op: 'manager_read', cookie: header(emptyKept), ...goConfig }]);
      assert.equal(goKept.error, undefined, goKept.reason);
      assert.equal(goKept.id, hex(reopened.id), 'Go reads that session too');
    }
  });

  it('reads the Cookie header as Go does', () => {
    const lines = jsCookies().seal({ values: fromWire(big) }, at(NOW));
    const [first, second, third] = lines.map((l) => l.split(';')[0]);
    const cookies = jsCookies();
    const tries = {
      'chunks in any order, quoted': `${third}; ${first.replace('=', '="')}"; ${second}`,
      'the first of two wins': `${first}; ${second}; ${third}; ${first.slice(0, -4)}AAAA`,
      'non-canonical index ignored': `${first}; ${second}; ${third}; __Host-sid.01=x; __Host-sid.4=x`,
      'split over two lines': [`${first}; ${second}`, third],
    };
    for (const [what, h] of Object.entries(tries)) assert.deepEqual(toWire(cookies.open(h, at(NOW)).values), normal(big), what);
    assert.throws(() => cookies.open(`${first}; ${third}`, at(NOW)), /cookie __Host-sid.2 present but chunk __Host-sid.1 missing/);
    assert.equal(cookies.open('other=1; __Host-sid.01=x', at(NOW)), null);
    assert.equal(cookies.open(`${'a=1;'.repeat(3000)} ${first}; ${second}; ${third}`, at(NOW)), null, 'more than 3000 cookies count as none');
  });
});

describe("SessionCookies options, against Go's New", () => {
  const values = [{ key: enc('n'), type: 'int', value: '1' }];
  // goRequest is the manager_seal request for the same options in Go,
  // where a zero field means the default as an absent JS option does.
  const goRequest = (o, extra = {}) => ({
    op: 'manager_seal', ring, now: NOW, name: o.name ?? 'session', max_age: o.maxAge ?? 0, idle: o.idleTimeout ?? 0,
    max_lifetime: o.maxLifetime ?? 0, max_cookie_size: o.maxCookieSize ?? 0, max_chunks: o.maxChunks ?? 0, path: o.path ?? '',
    domain: o.domain ?? '', disable_secure: o.secure === false, disable_http_only: o.httpOnly === false, same_site: o.sameSite ?? '',
    partitioned: o.partitioned === true, browser_session: o.browserSession === true, values, ...extra,
  });
  // masked hides the token, which differs by its random nonce and id.
  const masked = (line) => line.replace(/^([^=]+=)[A-Za-z0-9_-]+/, '$1<token>');

  it("accepts and refuses the options Go's New does, with the same Set-Cookie line", () => {
    const configs = [
      {}, { domain: 'example.com' }, { domain: '.example.com' }, { domain: 'Example.COM.' }, { domain: 'localhost' }, { domain: '1.2.3.4' },
      { domain: 'a-b.c0' }, { domain: `${'x'.repeat(63)}.com` }, { domain: `${'x'.repeat(64)}.com` }, { domain: 'https://example.com' },
      { domain: 'example.com:8443' }, { domain: 'example.com/app' }, { domain: 'ex_ample.com' }, { domain: 'exa mple.com' },
      { domain: 'é.example.com' }, { domain: '-a.com' }, { domain: 'a-.com' }, { domain: 'a..com' }, { domain: '..com' }, { domain: '.' },
      { domain: '::1' }, { domain: '[::1]' }, { domain: '256.1.1.1' }, { domain: '01.2.3.4' }, { domain: '1.2.3' }, { domain: '123' },
      { path: '' }, { path: '/' }, { path: '/app' }, { path: '/a b,c' }, { path: '/a%20b,c' }, { path: '/a"b' }, { path: '/a<b>' }, { path: '/app?x' }, { path: '/#/a' }, { path: '/a\\b' }, { path: '/users/{id}' }, { path: '/a`b' }, { path: '/a^b' }, { path: '/a|b' }, { path: '/%7Eada' }, { path: '/%61pp' }, { path: '/app/../x' }, { path: '/app/%2E' }, { path: "/a(1)!*'[x]$&+,=:@~-._" }, { path: '/100%/a%2Fb/%zz/%c3%a9' }, { path: '/.well-known' }, { path: 'app' }, { path: '/é' }, { path: '/a;b' }, { path: '/a\u007f' },
      { path: '/a\tb' }, { name: '__Host-s', path: '/app' }, { name: '__Host-s', domain: 'example.com' }, { name: '__Host-s', secure: false },
      { name: '__Secure-s', secure: false }, { name: '__Secure-s', domain: 'example.com', path: '/app' }, { sameSite: 'none', secure: false },
      { partitioned: true, secure: false }, { sameSite: 'strict', httpOnly: false, partitioned: true }, { secure: false, sameSite: 'lax' },
      { name: '__Http-s', httpOnly: false }, { name: '__http-s', secure: false }, { name: '__Http-s', domain: 'example.com', path: '/app' },
      { name: '__Host-Http-s', httpOnly: false }, { name: '__HOST-HTTP-s', path: '/app' }, { name: '__Host-Http-s' },
      { maxAge: 3600, idleTimeout: 3599 }, { maxAge: 3600, idleTimeout: 3600 }, { maxAge: 3600, idleTimeout: 3601 }, { idleTimeout: 86400 }, { maxAge: 3600, maxLifetime: 3599 },
      { maxAge: 3600, maxLifetime: 7200, idleTimeout: 7200 }, { maxAge: 3600, maxLifetime: 7200, idleTimeout: 7201 },
      { maxCookieSize: 4096 }, { maxCookieSize: 4097 }, { maxCookieSize: 200 }, { maxCookieSize: 110 }, { maxCookieSize: 110, maxChunks: 2 }, { maxChunks: 62 }, { maxChunks: 63 }, { maxChunks: 64 }, { maxChunks: 65 }, { maxChunks: 64, maxCookieSize: 4000 }, { partitioned: true, maxChunks: 64 },
      { maxAge: 2 ** 32 - 1 }, { maxAge: 2 ** 32 }, { maxLifetime: 2 ** 32 }, { maxAge: 2 ** 32 - 1, idleTimeout: 34560000 },
      // Browsers cut a Max-Age over 400 days (34560000 s); 86400000 is express-session's day in milliseconds.
      { maxAge: 34560000 }, { maxAge: 34560001 }, { maxAge: 86400000 }, { maxAge: 86400000, browserSession: true },
      { maxAge: 63072000, idleTimeout: 34560000 }, { maxAge: 63072000, idleTimeout: 34560001 }, { idleTimeout: 86400000 },
      { maxAge: 2592000, maxLifetime: 63072000 }, { maxAge: 2592000, idleTimeout: 34560001, maxLifetime: 63072000 },
    ];
    const goAnswers = goInterop(configs.map((o) => goRequest(o)));
    configs.forEach((o, i) => {
      const what = JSON.stringify(o);
      let js;
      try {
        js = masked(new SessionCookies(parseKeyRing(ring), o).seal({ values: fromWire(values) }, at(NOW))[0]);
      } catch (err) {
        assert.ok(err instanceof RangeError, `${what}: ${err}`);
        assert.match(err.message, /^cookiesession: /, what);
        js = false;
      }
      const go = goAnswers[i].error ? false : masked(goAnswers[i].set_cookie[0]);
      assert.equal(js, go, `${what}: Go says ${goAnswers[i].reason ?? 'ok'}`);
    });
  });

  it('says what is wrong with a domain or a path', () => {
    assert.throws(() => new SessionCookies(parseKeyRing(ring), { domain: 'https://example.com' }), {
      message: 'cookiesession: domain "https://example.com" is not a cookie domain: give a bare host name such as example.com, without scheme, port or path, or leave it empty for a host-only cookie',
    });
    assert.throws(() => new SessionCookies(parseKeyRing(ring), { path: 'app' }), { message: 'cookiesession: path "app" must start with /' });
    assert.throws(() => new SessionCookies(parseKeyRing(ring), { path: '/é' }), /path "\/é" holds the byte 0xc3: a cookie path is printable ASCII without ";"/);
  });

  it('clears the chunks with the lines Go writes, byte for byte', () => {
    const configs = [
      { maxChunks: 3 },
      { name: 'sid', maxChunks: 3, path: '/app', domain: '.example.com', sameSite: 'strict', httpOnly: false, partitioned: true },
      { name: 'dev', maxChunks: 2, secure: false, domain: '127.0.0.1' },
    ];
    for (const o of configs) {
      const name = o.name ?? 'session';
      // A refused cookie in every chunk: Go's Manager expires them all.
      const sent = `${name}=x; ${name}.1=y${o.maxChunks > 2 ? `; ${name}.2=z` : ''}`;
      const [cleared, resealed] = goInterop([goRequest(o, { cookie: sent, values: [] }), goRequest(o, { cookie: sent })]);
      const cookies = new SessionCookies(parseKeyRing(ring), o);
      assert.equal(cookies.chunksSent(sent), o.maxChunks);
      assert.deepEqual(cookies.clear(cookies.chunksSent(sent)), cleared.set_cookie, JSON.stringify(o));
      const lines = cookies.seal({ values: fromWire(values) }, at(NOW), cookies.chunksSent(sent));
      assert.deepEqual(lines.map(masked), resealed.set_cookie.map(masked), JSON.stringify(o));
    }
  });
});

describe('the Cookie header, read as Go reads it', () => {
  const outcome = (f) => {
    try {
      const record = f();
      return record === null ? { got: 'none' } : { got: 'open', values: toWire(record.values) };
    } catch (err) {
      assert.ok(err instanceof SessionError, String(err));
      return { got: err.kind, reason: err.reason };
    }
  };
  // agree runs each [what, header, want] through Go's Manager and through
  // SessionCookies with the same options. want is what both must make of
  // it: 'open' (and the same values), 'none' (no cookie of ours) or an
  // error class, with Go's reason. A header given as an array is several
  // Cookie lines.
  function agree(options, cases) {
    const goOptions = { ring, now: NOW, max_age: 86400, name: options.name, max_chunks: options.maxChunks, max_cookie_size: options.maxCookieSize };
    const goAnswers = goInterop(cases.map(([, h]) => ({ op: 'manager_open', ...goOptions, ...(Array.isArray(h) ? { cookie_lines: h } : { cookie: h }) })));
    const cookies = new SessionCookies(parseKeyRing(ring), options);
    return cases.map(([what, h, want], i) => {
      const a = goAnswers[i];
      const go = a.error ? { got: a.error, reason: a.reason } : a.is_new ? { got: 'none' } : { got: 'open', values: normal(a.values) };
      assert.equal(go.got, want, `Go, ${what}: ${go.reason ?? ''}`);
      assert.deepEqual(outcome(() => cookies.open(h, at(NOW))), go, what);
      return go;
    });
  }

  it('trims only space, tab, CR and LF, around each cookie and again around its name', () => {
    const options = { name: 'session', maxChunks: 1, maxCookieSize: 4096 };
    const [line] = new SessionCookies(parseKeyRing(ring), options).seal({ values: fromWire([{ key: enc('n'), type: 'int', value: '1' }]) }, at(NOW));
    const t = line.slice('session='.length, line.indexOf(';'));
    agree(options, [
      ['a space before "="', `session =${t}`, 'open'],
      ['NBSP after the value', `session=${t}\u00a0`, 'invalid'],
      ['VT after the value', `session=${t}\v`, 'invalid'],
      ['NBSP before the name', `\u00a0session=${t}`, 'none'],
      ['tabs around the name and the value', `\tsession\t=${t}\t`, 'open'],
      ['CR and LF around the name and the value', `\r\nsession\r\n=${t}\r\n`, 'open'],
      ['spaces everywhere but after "="', `a=1 ;  session  =${t}  ; b=2`, 'open'],
      ['a space after "="', `session= ${t}`, 'invalid'],
      ['a tab after "="', `session=\t${t}`, 'invalid'],
      ['FF after the value', `session=${t}\f`, 'invalid'],
      ['FF before the name', `\fsession=${t}`, 'none'],
      ['VT before "="', `session\v=${t}`, 'none'],
      ['NEL after the value', `session=${t}\u0085`, 'invalid'],
      ['an ideographic space before "="', `session\u3000=${t}`, 'none'],
      ['NUL after the value', `session=${t}\u0000`, 'invalid'],
      ['quoted', `session="${t}"`, 'open'],
      ['quoted, spaces outside the quotes', `a=1; session="${t}" ; b=2`, 'open'],
      ['a space inside the quotes', `session=" ${t}"`, 'invalid'],
      ['an opening quote only', `session="${t}`, 'invalid'],
      ['two pairs of quotes', `session=""${t}""`, 'invalid'],
      ['no space after ";"', `a=1;session=${t};b=2`, 'open'],
      ['empty parts', `;; ;session=${t};;`, 'open'],
      ['the name in another case', `Session=${t}`, 'none'],
      ['only a value', `=${t}`, 'none'],
      ['the first of two wins', `session=${t}; session=x`, 'open'],
      ['a bad first one is passed over (step 5)', `session=x; session=${t}`, 'open'],
      ['an empty first one is passed over', `session=; session=${t}`, 'open'],
      ['a name without "=" is a cookie with an empty value', `session; session=${t}`, 'open'],
      ['a bad one alone', `session=x`, 'invalid'],
      ['a chunk name at maxChunks is not ours', `session.1=${t}`, 'none'],
      ['lines: the first wins across them', [`session=${t}`, 'session=x'], 'open'],
      ['lines: a bad first one is passed over across them', ['a=1; session=x', `session=${t}`], 'open'],
      ['lines: an empty one', ['', ` session=${t} `], 'open'],
    ]);
  });

  it('finds the chunks by their exact names', () => {
    const options = { name: '__Host-sid', maxChunks: 4, maxCookieSize: 1200 };
    const values = fromWire([{ key: enc('blob'), type: 'string', hex: enc('x'.repeat(2500)) }]);
    const lines = new SessionCookies(parseKeyRing(ring), options).seal({ values }, at(NOW), 0);
    assert.equal(lines.length, 4, 'three chunks, and the fourth expired');
    const [v0, v1, v2] = lines.map((l) => l.slice(l.indexOf('=') + 1, l.indexOf(';')));
    const all = `__Host-sid=${v0}; __Host-sid.1=${v1}; __Host-sid.2=${v2}`;
    agree(options, [
      ['in order', all, 'open'],
      ['out of order, quoted, over lines, names trimmed', [`__Host-sid.2="${v2}"`, `\t__Host-sid.1 =${v1}`, `__Host-sid\r\n="${v0}"`], 'open'],
      ['"name.01" is not chunk 1', `__Host-sid=${v0}; __Host-sid.01=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['"name.+1" is not chunk 1', `__Host-sid=${v0}; __Host-sid.+1=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['"name .1" is not chunk 1', `__Host-sid=${v0}; __Host-sid .1=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['NBSP before chunk 1', `__Host-sid=${v0}; \u00a0__Host-sid.1=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['"name.0" is not chunk 0', `__Host-sid.0=${v0}; __Host-sid.1=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['higher chunks only', `__Host-sid.1=${v1}; __Host-sid.2=${v2}`, 'invalid'],
      ['a chunk at maxChunks is ignored', `${all}; __Host-sid.4=x`, 'open'],
      ['an extra chunk spoils the join, and step 5 opens the session without it', `${all}; __Host-sid.3=${v2}`, 'open'],
      ['a repeated chunk: the first wins', `${all}; __Host-sid.1=x`, 'open'],
      ['a repeated chunk: a bad first one does not hide the good one (step 5)', `__Host-sid.1=x; ${all}`, 'open'],
    ]);
  });

  // README: a Headers built in Deno joins two appended cookie values with
  // ", ", as the Fetch standard says; the session's cookie then runs into
  // the value before or after it. Passed as an array of lines, they open.
  it('reads cookie values joined with ", " as Go does, and opens them passed as lines', () => {
    const options = { name: 'session', maxChunks: 3, maxCookieSize: 200 };
    const sealed = (pad) => new SessionCookies(parseKeyRing(ring), options).seal({ values: fromWire([{ key: enc('pad'), type: 'string', hex: enc(pad) }]) }, at(NOW), 0)
      .filter((l) => !l.includes('; Max-Age=0')).map((l) => l.split(';')[0]);
    const [one] = sealed('x');
    const chunks = sealed('x'.repeat(250));
    assert.equal(chunks.length, 3);
    const got = agree(options, [
      ['another value, then the session', `csrf=c1, ${one}`, 'none'],
      ['another value, then the chunks', `csrf=c1, ${chunks.join('; ')}`, 'invalid'],
      ['the session, then another value', `${one}, csrf=c1`, 'invalid'],
      ['each chunk a value of its own', chunks.join(', '), 'invalid'],
      ['as lines: another value, then the session', ['csrf=c1', one], 'open'],
      ['as lines: another value, then the chunks', ['csrf=c1', chunks.join('; ')], 'open'],
      ['as lines: each chunk', chunks, 'open'],
    ]);
    assert.equal(got[1].reason, 'cookie session.2 present but chunk session missing');
    assert.match(got[2].reason, /^bad encoding: /);
  });

  // Step 5: a cookie tossed for a parent domain or a longer path comes
  // before the session's own. Sessions a and b fit one cookie, c takes
  // three; u is under a key the ring lacks, f was created an hour ahead,
  // e has expired. Each row names the session both must open, or the
  // error class both must give (with Go's reason).
  it('takes the first cookie of the name that opens (step 5), as Go does', () => {
    const options = { name: '__Host-sid', maxChunks: 4, maxCookieSize: 1200 };
    const seal = (who, when = NOW, keys = ring, blob = '') => {
      const values = fromWire([{ key: enc('who'), type: 'string', hex: enc(who + blob) }]);
      return new SessionCookies(parseKeyRing(keys), options).seal({ values }, at(when), 0).map((l) => l.slice(l.indexOf('=') + 1, l.indexOf(';')));
    };
    const [[a], [b], [c0, c1, c2], [u], [f], [e]] = [seal('a'), seal('b'), seal('c', NOW, ring, 'x'.repeat(2500)),
      seal('u', NOW, ringText([{ id: 0x0badf00d, secret: new Uint8Array(32).fill(3) }])), seal('f', NOW + 3600), seal('e', NOW - 2 * 86400)];
    const c = `__Host-sid=${c0}; __Host-sid.1=${c1}; __Host-sid.2=${c2}`;
    const rows = [
      ['junk, then the genuine one', `__Host-sid=junk; __Host-sid=${a}`, 'a'],
      ['the first of two genuine ones (steps 1 to 4)', `__Host-sid=${a}; __Host-sid=${b}`, 'a'],
      ['junk, then two genuine ones', `__Host-sid=junk; __Host-sid=${b}; __Host-sid=${a}`, 'b'],
      ['two Cookie lines', ['__Host-sid=junk', `x=1; __Host-sid=${a}`], 'a'],
      ['empty, then quoted', `__Host-sid=; __Host-sid="${a}"`, 'a'],
      ['a stray higher chunk after', `__Host-sid=${a}; __Host-sid.1=junk`, 'a'],
      ['a stray higher chunk before', `__Host-sid.1=junk; __Host-sid=${a}`, 'a'],
      ['a stray chunk with a gap', `__Host-sid.2=junk; __Host-sid=${a}`, 'a'],
      ['junk, then a chunked session', `__Host-sid=junk; ${c}`, 'c'],
      ['junk, then a chunked session, over lines', ['__Host-sid=junk', c], 'c'],
      ['a genuine small one before a chunked session', `__Host-sid=${a}; ${c}`, 'a'],
      ['an empty chunk 1 before the real one (step 5 skips empty values)', `__Host-sid=junk; __Host-sid.1=; ${c}`, 'c'],
      ['a tossed chunk 1 before the real one', `__Host-sid=junk; __Host-sid.1=junk; ${c}`, 'c'],
      ['a tossed chunk 1 of a full chunk\'s length before the real one', `__Host-sid.1=${'A'.repeat(c1.length)}; ${c}`, 'c'],
      ['a stray chunk past a chunked session', `${c}; __Host-sid.3=junk`, 'c'],
      ['four before the genuine one', `${'__Host-sid=junk; '.repeat(4)}__Host-sid=${a}`, 'a'],
      ['five before the genuine one: among the last four', `${'__Host-sid=junk; '.repeat(5)}__Host-sid=${a}`, 'a'],
      ['twelve before the genuine one, three after', `${'__Host-sid=junk; '.repeat(12)}__Host-sid=${a}${'; __Host-sid=junk'.repeat(3)}`, 'a'],
      ['five before the genuine one, four after: not tried', `${'__Host-sid=junk; '.repeat(5)}__Host-sid=${a}${'; __Host-sid=junk'.repeat(4)}`, 'invalid'],
      ['a deep chunked session, among the last four, is joined', `${'__Host-sid=junk; '.repeat(5)}${c}`, 'c'],
      ['junk, then unknown key', `__Host-sid=junk; __Host-sid=${u}`, 'unknown_key'],
      ['unknown key, then genuine', `__Host-sid=${u}; __Host-sid=${a}`, 'a'],
      ['junk, then created in the future', `__Host-sid=junk; __Host-sid=${f}`, 'invalid'],
      ['junk, future, unknown key: the first kept', `__Host-sid=junk; __Host-sid=${f}; __Host-sid=${u}`, 'invalid'],
      ['junk, unknown key, future: the first kept', `__Host-sid=junk; __Host-sid=${u}; __Host-sid=${f}`, 'unknown_key'],
      ['junk, then expired: the first error', `__Host-sid=junk; __Host-sid=${e}`, 'invalid'],
      ['expired, then junk: the first error', `__Host-sid=${e}; __Host-sid=junk`, 'expired'],
      ['a second cookie of another name does not count', `__Host-sid=junk; other=${a}`, 'invalid'],
      ['every cookie twice, as a Lambda function URL sends them', [`__Host-sid=${c0}`, `__Host-sid.1=${c1}`, `__Host-sid.2=${c2}`, c], 'c'],
      ['expired, twice: the same cookie', `__Host-sid=${e}; __Host-sid=${e}`, 'expired'],
    ];
    const got = agree(options, rows.map(([what, h, want]) => [what, h, want.length === 1 ? 'open' : want]));
    const who = (o) => new TextDecoder().decode(unhex(o.values.find((v) => v.key === enc('who')).hex)).slice(0, 1);
    rows.forEach(([what, , want], i) => assert.equal(got[i].got === 'open' ? who(got[i]) : got[i].got, want, what));
    const reasons = Object.fromEntries(rows.map(([what], i) => [what, got[i].reason]));
    assert.match(reasons['junk, then created in the future'], /^session created in the future at /);
    assert.match(reasons['junk, future, unknown key: the first kept'], /^session created in the future at /);
    assert.equal(reasons['junk, then expired: the first error'], 'token of 4 bytes is too short to be valid');
  });
});

describe('hostile Cookie headers, against Go', () => {
  // againstGo reads each header with Go's Manager and with SessionCookies
  // under options, and returns the headers whose answers differ (session,
  // error class and reason, and clear, keep or re-issue) and the answers
  // seen.
  const againstGo = (options, headers) => {
    const goAnswers = goInterop(headers.map((h) => ({ op: 'manager_read', ring, now: NOW, max_age: options.maxAge, idle: options.idleTimeout, name: options.name,
      max_chunks: options.maxChunks, max_cookie_size: options.maxCookieSize, ...(Array.isArray(h) ? { cookie_lines: h } : { cookie: h }) })));
    const cookies = new SessionCookies(parseKeyRing(ring), options);
    // opens counts the tokens each header has opened.
    const open = cookies.codec.open.bind(cookies.codec);
    let opens = 0;
    cookies.codec.open = (token, when) => {
      opens++;
      return open(token, when);
    };
    const mostOpens = [];
    // Node's http and fetch's Headers give each byte of a header as one
    // character: so the UTF-8 bytes Go reads reach JS.
    const asNode = (h) => (Array.isArray(h) ? h.map(asNode) : Buffer.from(h, 'utf8').toString('latin1'));
    const shape = (lines) => lines.map((l) => l.replace(/=[^;]*/, '=').replace(/Max-Age=\d+/, 'Max-Age=n'));
    const decide = (lines) => (lines.length === 0 ? 'keep' : lines[0].includes('; Max-Age=0') ? 'clear' : 're-issue');
    const seen = new Set();
    const wrong = [];
    headers.forEach((h, i) => {
      const header = asNode(h);
      let js;
      opens = 0;
      try {
        const record = cookies.open(header, at(NOW));
        if (record === null) js = { got: 'none', lines: [] };
        else js = { got: 'open', id: hex(record.id), keyId: record.keyId, values: normal(toWire(record.values)), lines: cookies.refresh(record, at(NOW), cookies.chunksSent(header)) };
      } catch (err) {
        assert.ok(err instanceof SessionError, String(err));
        // What README's edge code does with a cookie it cannot open.
        js = { got: err.kind, reason: err.reason, lines: err.keepCookie ? [] : cookies.clear(cookies.chunksSent(header)) };
      }
      mostOpens.push(opens);
      const g = goAnswers[i];
      const go = g.error ? { got: g.error, reason: g.reason } : g.id ? { got: 'open', id: g.id, keyId: g.key_id, values: normal(g.values) } : { got: 'none' };
      go.lines = g.set_cookie ?? [];
      seen.add(`${go.got} ${decide(go.lines)}`);
      const view = (x) => ({ ...x, lines: shape(x.lines), decision: decide(x.lines) });
      if (!isDeepStrictEqual(view(js), view(go))) wrong.push({ header: h, js: view(js), go: view(go) });
    });
    return { wrong, seen, mostOpens: Math.max(...mostOpens) };
  };
  it('opens the session Go opens, or gives its error, and clears, keeps or re-issues the cookie as Go does, for 3000 headers built at random', () => {
    const options = { name: 's', maxChunks: 3, maxCookieSize: 120, maxAge: 86400, idleTimeout: 1800 };
    const seal = (who, when = NOW, keys = ring, blob = '') => new SessionCookies(parseKeyRing(keys), options)
      .seal({ values: fromWire([{ key: enc('w'), type: 'string', hex: enc(who + blob) }]) }, at(when), 0)
      .filter((l) => !l.includes('; Max-Age=0')).map((l) => l.slice(l.indexOf('=') + 1, l.indexOf(';')));
    const [[a], [b], [o], [c0, c1, c2], [d0, d1], [u], [f], [e]] = [seal('a'), seal('b', NOW - 1000), seal('o', NOW, ringText([key2, key1])),
      seal('c', NOW, ring, 'x'.repeat(150)), seal('d', NOW, ring, 'x'.repeat(40)),
      seal('u', NOW, ringText([{ id: 0x0badf00d, secret: new Uint8Array(32).fill(3) }])), seal('f', NOW + 3600), seal('e', NOW - 2 * 86400)];
    // Values: genuine tokens (b due for a refresh, o under an old key),
    // chunks, junk, quoted, padded, in the standard alphabet, with
    // non-ASCII bytes, and too long.
    const values = [a, b, o, c0, c1, c2, d0, d1, u, f, e, 'junk', '', '""', `"${a}"`, `"${c1}"`, ` ${a}`, `${a}\t`, `${a}\u00a0`, '"',
      `${a}=`, `${a}==`, `${a.slice(0, 30)}+${a.slice(31)}`, `${a.slice(0, 30)}/${a.slice(31)}`, `${a.slice(0, 20)}é${a.slice(20)}`, `${a}€`,
      'A'.repeat(400), c1 + c2 + c2, `${c0}${c1}`];
    const names = ['s', 's.1', 's.2', 's.3', 'S', 'S.1', ' s', 's\t', '\ts ', 's.01', 's.0', 'x', 's .1', 's\u00a0', 'é'];
    const eqs = ['=', '=', '=', ' =', '\t=', '= ', ' = '];
    const seps = ['; ', ';', ' ; ', ';;', '\t;\t', ';\r\n '];
    let seed = 121; // a fixed sequence
    const rnd = (n) => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % n;
    const headers = Array.from({ length: 3000 }, () => {
      const parts = Array.from({ length: 1 + rnd(7) }, () => {
        const name = names[rnd(names.length)];
        return rnd(12) === 0 ? name : `${name}${eqs[rnd(eqs.length)]}${values[rnd(values.length)]}`;
      });
      const lines = [parts[0]];
      for (const p of parts.slice(1)) {
        if (rnd(6) === 0) lines.push(p);
        else lines[lines.length - 1] += `${seps[rnd(seps.length)]}${p}`;
      }
      return lines.length === 1 ? lines[0] : lines;
    });
    const { wrong, seen } = againstGo(options, headers);
    assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} of ${headers.length} headers differ; the first three are shown`);
    assert.deepEqual([...seen].sort(), ['expired clear', 'expired keep', 'invalid clear', 'invalid keep', 'none keep', 'open keep', 'open re-issue', 'unknown_key keep']);
  });

  it('agrees with Go on 1500 headers heavy with chunks: many values of each chunk name, full-length junk, other sessions\' chunks, within and past step 5\'s budget', () => {
    // Chunks of 119 and 117 bytes; step 5 joins a value that fills its
    // chunk with each candidate of the next name, so full-length values
    // under every name drive it to its budget of 18 opens, in an order and
    // with an error a port must reproduce exactly.
    const options = { name: 's', maxChunks: 4, maxCookieSize: 120, maxAge: 86400, idleTimeout: 1800 };
    const seal = (who, when = NOW, keys = ring) => new SessionCookies(parseKeyRing(keys), options)
      .seal({ values: fromWire([{ key: enc('w'), type: 'string', hex: enc(who + 'x'.repeat(120)) }]) }, at(when), 0)
      .filter((l) => !l.includes('; Max-Age=0')).map((l) => l.slice(l.indexOf('=') + 1, l.indexOf(';')));
    const other = ringText([{ id: 0x0badf00d, secret: new Uint8Array(32).fill(3) }]);
    const sessions = [seal('a'), seal('b'), seal('u', NOW, other), seal('f', NOW + 3600), seal('e', NOW - 2 * 86400)];
    const flip = (v) => v.slice(0, 50) + (v[50] === 'A' ? 'B' : 'A') + v.slice(51);
    const values = sessions.flat().concat(sessions.flat().map(flip), ['A'.repeat(119), 'A'.repeat(117), 'junk', '', '"' + sessions[0][1] + '"']);
    assert.ok(sessions.every((s) => s.length === 3 && s[0].length === 119 && s[1].length === 117), 'sessions of three chunks, the first two full');
    const names = ['s', 's', 's.1', 's.1', 's.2', 's.2', 's.3', 's.01'];
    let seed = 255; // a fixed sequence
    const rnd = (n) => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % n;
    const headers = Array.from({ length: 1500 }, () => {
      const parts = Array.from({ length: 4 + rnd(30) }, () => `${names[rnd(names.length)]}=${values[rnd(values.length)]}`);
      // Now and then a whole session, in order, somewhere among them.
      if (rnd(2) === 0) parts.splice(rnd(parts.length + 1), 0, ...sessions[rnd(2)].map((v, i) => `${i === 0 ? 's' : `s.${i}`}=${v}`));
      return parts.join('; ');
    });
    const { wrong, seen, mostOpens } = againstGo(options, headers);
    assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} of ${headers.length} headers differ; the first three are shown`);
    assert.equal(mostOpens, 1 + 18, "some header takes step 4's token and step 5's whole budget");
    for (const want of ['open keep', 'invalid clear', 'invalid keep', 'unknown_key keep']) assert.ok(seen.has(want), `no header gave ${want}: ${[...seen]}`);
  });

  it('agrees with Go on headers of tiny chunks (maxCookieSize 16, maxChunks 64), where chains shorter than a token count against the budget', () => {
    const options = { name: 's', maxChunks: 64, maxCookieSize: 16, maxAge: 86400, idleTimeout: 1800 };
    const cookies = new SessionCookies(parseKeyRing(ring), options);
    const lines = cookies.seal({ values: fromWire([{ key: enc('w'), type: 'string', hex: enc('t') }]) }, at(NOW), 0).filter((l) => !l.includes('; Max-Age=0'));
    const own = lines.map((l) => l.slice(0, l.indexOf(';')));
    assert.ok(own.length > 8, `a session over many chunks, got ${own.length}`);
    let seed = 16;
    const rnd = (n) => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % n;
    const headers = Array.from({ length: 300 }, () => {
      const parts = [];
      // Up to nine values under each of the first names, full-length
      // junk or the session's own, then the session's own chunks.
      for (let i = 0, n = Math.min(2 + rnd(8), own.length); i < n; i++) {
        const [name, value] = own[i].split('=');
        for (let j = rnd(9); j > 0; j--) parts.push(`${name}=${rnd(3) === 0 ? value : String.fromCharCode(65 + rnd(26)).repeat(value.length)}`);
      }
      if (rnd(2) === 0) parts.splice(rnd(parts.length + 1), 0, ...own);
      return parts.join('; ');
    });
    const { wrong, seen, mostOpens } = againstGo(options, headers);
    assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} of ${headers.length} headers differ; the first three are shown`);
    assert.equal(mostOpens, 1 + 18, "some header takes step 4's token and step 5's whole budget");
    assert.ok(seen.has('open keep') && seen.has('invalid keep'), [...seen].join(', '));
  });
});

describe('key rotation: the incoming key, as in Go', () => {
  // key1 is the primary and key2 is scheduled at T, at whole seconds or
  // half a second later. Tokens sealed an hour before under either key are
  // re-sealed around T by JS and by Go's Manager.
  const T = NOW;
  const sealedUnder = (first, second) => {
    const cookies = new SessionCookies(parseKeyRing(ringText([first, second])), { name: 'session' });
    const [line] = cookies.seal({ values: fromWire([{ key: enc('n'), type: 'int', value: '1' }]) }, at(T - 3600));
    return line.split(';')[0];
  };
  const keyOf = (line) => Buffer.from(line.slice(line.indexOf('=') + 1, line.indexOf(';')), 'base64url').readUInt32BE(1);

  for (const [promoteAt, offsetMs] of [['2026-01-01T00:00:00Z', 0], ['2026-01-01T00:00:00.5Z', 500]]) {
    it(`re-seals under the key it was opened with while that key is due within 60 s (promote_at ${promoteAt})`, () => {
      const scheduled = ringText([key1, { ...key2, promoteAt }]);
      const cookies = new SessionCookies(parseKeyRing(scheduled), { name: 'session' });
      const cases = [];
      for (const header of [sealedUnder(key1, key2), sealedUnder(key2, key1)]) {
        for (const dt of [-3600, -61, -60, -59, -30, -1, 0, 1, 60]) cases.push({ header, now: T + dt });
      }
      const request = ({ header, now }) => ({ op: 'manager_seal', ring: scheduled, name: 'session', now, max_age: 86400, cookie: header });
      const goChanged = goInterop(cases.map((c) => ({ ...request(c), values: [{ key: enc('m'), type: 'int', value: '2' }] })));
      const goUnchanged = goInterop(cases.map(request));
      cases.forEach(({ header, now }, i) => {
        const record = cookies.open(header, at(now));
        const what = `token under ${record.keyId.toString(16)} at T${now - T >= 0 ? '+' : ''}${now - T}s`;
        // The incoming key seals from 60 s before its promote_at; before
        // that, and for a token under the old key until promote_at, the
        // primary does.
        const nowMs = (now - T) * 1000;
        const want = nowMs >= offsetMs - (record.keyId === key2.id ? 60000 : 0) ? key2.id : key1.id;
        // A changed session: Go's write, and JS's seal with a new deadline.
        const opened = record.keyId;
        const changed = cookies.open(header, at(now));
        changed.values.set('m', 2, 'int');
        delete changed.expires;
        assert.equal(keyOf(cookies.seal(changed, at(now))[0]), want, `JS, changed, ${what}`);
        assert.equal(keyOf(goChanged[i].set_cookie[0]), want, `Go, changed, ${what}`);
        // An unchanged session: Go re-keys it, keeping its deadline, exactly
        // when JS would seal it under another key than it came under.
        const resealed = keyOf(cookies.seal(record, at(now))[0]);
        assert.equal(resealed, want, `JS, unchanged, ${what}`);
        if (want === opened) {
          assert.equal(goUnchanged[i].set_cookie, undefined, `Go leaves alone ${what}`);
        } else {
          assert.equal(keyOf(goUnchanged[i].set_cookie[0]), want, `Go, unchanged, ${what}`);
          assert.match(goUnchanged[i].set_cookie[0], new RegExp(`; Max-Age=${Number(record.expires) - now};`), `Go keeps the deadline, ${what}`);
        }
      });
    });
  }
});

describe('a session read without a change: refresh re-seals exactly when Go\'s Manager does', () => {
  // Go's Manager re-seals an unchanged session when a rolling refresh is
  // due, or when its token is under a key other than the primary (and not
  // the incoming one); JS's refresh must do the same, or a user active only
  // at the edge is signed out after idleTimeout, and an old key stays in use.
  const T = NOW - 6000; // when the sessions were created
  const n = [{ key: enc('n'), type: 'int', value: '1' }];
  const shape = (ls) => ls.map((l) => [l.split('=')[0], l.slice(l.indexOf(';'))]);
  const keyOf = (line) => Buffer.from(line.slice(line.indexOf('=') + 1, line.indexOf(';')), 'base64url').readUInt32BE(1);
  const cases = [];
  // read: the options both sides read with (seal: those the token was
  // sealed under, when they differ); extra: cookies sent beside the session's.
  const add = (what, { sealedAt, now, idle = 1800, sealIdle = idle, threshold, lifetime = null, sealRing = ring, readRing = ring, values = n, read = {}, seal = read, extra = '' }) => {
    const opts = { name: 'session', maxAge: 7200, maxLifetime: 86400, ...seal, ...(sealIdle ? { idleTimeout: sealIdle } : {}) };
    const lines = new SessionCookies(parseKeyRing(sealRing), opts).seal({ created: BigInt(T), values: fromWire(values), lifetime }, at(sealedAt));
    const header = lines.filter((l) => !l.includes('; Max-Age=0;')).map((l) => l.split(';')[0]).join('; ') + extra;
    cases.push({ what, header, now, idle, threshold, readRing, read });
  };
  for (const dt of [0, 60, 899, 900, 901, 1500, 1799]) add(`idle 1800, sealed at T, read at T+${dt}`, { sealedAt: T, now: T + dt });
  for (const threshold of [0.25, 1]) {
    for (const dt of [1, 449, 451, 1349, 1351]) add(`threshold ${threshold}, read at T+${dt}`, { sealedAt: T, now: T + dt, threshold });
  }
  // Near created + maxAge a re-seal would not move the deadline.
  for (const dt of [5400, 6300, 6500, 7000]) add(`sealed at T+5400, read at T+${dt}`, { sealedAt: T + 5400, now: T + dt });
  add('sealed without an idle timeout, read under one', { sealedAt: T, now: T + 10, sealIdle: 0 });
  add('sealed under a longer idle timeout', { sealedAt: T, now: T + 10, sealIdle: 3600, idle: 1800 });
  add('no idle timeout', { sealedAt: T, now: T + 5000, idle: 0, sealIdle: 0 });
  for (const dt of [100, 301, 599]) add(`a lifetime's idle of 600, read at T+${dt}`, { sealedAt: T, now: T + dt, lifetime: { maxAge: 86400, idleTimeout: 600 } });
  const rotated = ringText([key2, key1]); // key2 primary, key1 open-only
  add('under an old key', { sealedAt: T, now: T + 10, readRing: rotated });
  add('under an old key, refresh due', { sealedAt: T, now: T + 1000, readRing: rotated });
  add('under the primary of a ring that also holds the old one', { sealedAt: T, now: T + 10, sealRing: rotated, readRing: rotated });
  const scheduled = ringText([key1, { ...key2, promoteAt: new Date((NOW + 30) * 1000).toISOString() }]);
  add('under the incoming key, 30 s before its promotion', { sealedAt: NOW - 100, now: NOW, sealRing: ringText([key2, key1]), readRing: scheduled });

  // A lowered MaxLifetime bounds a lifetime's idle window too: the token's
  // deadline, 7 days away, lies past the 1 day now allowed.
  add('MaxLifetime lowered below a lifetime\'s idle timeout', {
    sealedAt: T, now: T + 10, lifetime: { maxAge: 30 * 86400, idleTimeout: 7 * 86400 }, seal: { maxLifetime: 30 * 86400 },
  });
  // A lowered MaxAge shortens the deadline Go's Manager gives the cookie.
  add('MaxAge lowered, under an old key', { sealedAt: T, now: T + 10, idle: 0, sealIdle: 0, seal: { maxAge: 86400 }, readRing: rotated });
  add('MaxAge lowered, under the primary', { sealedAt: T, now: T + 10, idle: 0, sealIdle: 0, seal: { maxAge: 86400 } });
  // Sealed by an instance whose clock runs ahead: within the skew allowed,
  // the deadline past the idle window is not a longer window.
  add('sealed by a peer 30 s ahead', { sealedAt: T + 30, now: T });
  add('sealed by a peer 90 s ahead', { sealedAt: T + 90, now: T });
  for (const dt of [10, 1000]) {
    add(`browserSession, read at T+${dt}`, { sealedAt: T, now: T + dt, read: { browserSession: true } });
    add(`browserSession, a persistent lifetime, read at T+${dt}`, { sealedAt: T, now: T + dt, read: { browserSession: true }, lifetime: { maxAge: 7200 } });
  }
  // Chunks: a token over several cookies, and a stray higher chunk beside a
  // token of one cookie, which a re-seal expires.
  const big = [...n, { key: enc('big'), type: 'string', hex: enc('x'.repeat(300)) }];
  const chunked = { maxChunks: 4, maxCookieSize: 200 };
  for (const dt of [10, 1000]) {
    add(`over several chunks, read at T+${dt}`, { sealedAt: T, now: T + dt, values: big, read: chunked });
    add(`a stray session.2, read at T+${dt}`, { sealedAt: T, now: T + dt, read: chunked, extra: '; session.2=stray' });
  }
  add('over several chunks, under an old key', { sealedAt: T, now: T + 10, values: big, read: chunked, readRing: rotated });

  it('writes the same lines as Go, or none when Go writes none', () => {
    const answers = goInterop(cases.map((c) => ({
      op: 'manager_seal', ring: c.readRing, name: 'session', now: c.now, max_age: 7200, idle: c.idle, max_lifetime: 86400, cookie: c.header,
      browser_session: c.read.browserSession ?? false, max_chunks: c.read.maxChunks ?? 0, max_cookie_size: c.read.maxCookieSize ?? 0,
      ...(c.threshold ? { refresh_threshold: c.threshold } : {}),
    })));
    let written = 0;
    const wrong = [];
    cases.forEach((c, i) => {
      const opts = { name: 'session', maxAge: 7200, maxLifetime: 86400, ...c.read, ...(c.idle ? { idleTimeout: c.idle } : {}), ...(c.threshold ? { refreshThreshold: c.threshold } : {}) };
      const cookies = new SessionCookies(parseKeyRing(c.readRing), opts);
      const record = cookies.open(c.header, at(c.now));
      const lines = cookies.refresh(record, at(c.now), cookies.chunksSent(c.header));
      const goLines = answers[i].set_cookie ?? [];
      assert.equal(answers[i].error, undefined, `${c.what}: ${answers[i].reason}`);
      const got = { lines: shape(lines), key: lines.length > 0 ? keyOf(lines[0]) : 0 };
      const want = { lines: shape(goLines), key: goLines.length > 0 ? keyOf(goLines[0]) : 0 };
      if (!isDeepStrictEqual(got, want)) wrong.push({ what: c.what, got, want });
      if (lines.length > 0) written++;
    });
    assert.deepEqual(wrong, [], 'the cases where JS and Go differ');
    assert.ok(written > 5 && written < cases.length - 5, `both outcomes are covered (${written} of ${cases.length} written)`);
  });
});

describe('the key ring text form, against Go', () => {
  const secret = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  const secret2 = '//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=';
  const P = 0x1a2b3c4d;
  const Q = 0x5e6f7a8b;
  const R = 0x0badf00d;
  const k = (id, s = secret, extra = '') => `{"id":"${id}","secret":"${s}"${extra}}`;
  const r = (body) => `{"version":1,"primary":"1a2b3c4d","keys":[${body}]}`;
  const ring = (version) => `{"version":${version},"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]}`;
  const promote = (time) => r(`${k('1a2b3c4d')},${k('5e6f7a8b', secret2, `,"promote_at":${time}`)}`);
  const due = (id, time) => k(id, id === '5e6f7a8b' ? secret2 : secret, `,"promote_at":"${time}"`);
  const many = (n) => r([k('1a2b3c4d'), ...Array.from({ length: n - 1 }, (_, i) => k((i + 1).toString(16).padStart(8, '0')))].join(','));
  // Each text with what FORMAT.md section 6 makes of it at NOW: the id of
  // the key that seals, or false for a refusal.
  const texts = [
    [r(k('1a2b3c4d')), P],
    [` \n${r(k('1a2b3c4d'))}\r\n\t `, P],
    ['{ "version" : 1 ,\n "primary" : "1a2b3c4d" , "keys" : [ ' + k('1a2b3c4d') + ' ] }', P],
    [`{"keys":[${k('1a2b3c4d')}],"primary":"1a2b3c4d","version":1}`, P],
    [r(`{"secret":"${secret}","id":"1a2b3c4d"}`), P],
    [`${r(k('1a2b3c4d'))}\u000b`, false],
    [`${r(k('1a2b3c4d'))}\u00a0`, false],
    [`\ufeff${r(k('1a2b3c4d'))}`, false],
    [`${r(k('1a2b3c4d'))} x`, false],
    [`${r(k('1a2b3c4d'))}${r(k('1a2b3c4d'))}`, false],
    // ids
    [r(k('1A2B3C4D')), false],
    [`{"version":1,"primary":"1A2B3C4D","keys":[${k('1a2b3c4d')}]}`, false],
    [r(k('00000000')), false],
    [r(k('1a2b3c4')), false],
    [r(k('1a2b3c4d0')), false],
    [r(k('+a2b3c4d')), false],
    [r(k('0x2b3c4d')), false],
    [r(`${k('1a2b3c4d')},${k('5e6f7a8b', secret2)}`), P],
    [r(`${k('1a2b3c4d')},${k('1a2b3c4d', secret2)}`), false],
    [`{"version":1,"primary":"5e6f7a8b","keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"primary":null,"keys":[${k('1a2b3c4d')}]}`, false],
    // secrets
    [r(k('1a2b3c4d', secret.slice(0, -1))), false],
    [r(k('1a2b3c4d', secret.replace('=', ''))), false],
    [r(k('1a2b3c4d', `${secret.slice(0, 20)}\\n${secret.slice(20)}`)), false],
    [r(k('1a2b3c4d', `${secret.slice(0, 20)} ${secret.slice(20)}`)), false],
    [r(k('1a2b3c4d', `${secret}\\r\\n`)), false],
    [r(k('1a2b3c4d', secret.replace('A', '-'))), false],
    [r(k('1a2b3c4d', secret.replace('8=', '9='))), false], // non-zero unused bits
    [r(k('1a2b3c4d', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8fHw==')), false],
    [r(k('1a2b3c4d', `\\u0041${secret.slice(1)}`)), P], // strings compare after unescaping
    [r(`${k('1a2b3c4d')},${k('5e6f7a8b', secret2.replaceAll('/', '\\/'))}`), P],
    [r(`{"id":"1a2b3c4d","secret":null}`), false],
    // members
    [r(`{"\\u0069d":"1a2b3c4d","secret":"${secret}"}`), P],
    [r(`{"ID":"1a2b3c4d","SECRET":"${secret}"}`), false],
    [r(`{"id":"1a2b3c4d","\u017fecret":"${secret}"}`), false],
    [r(`{"id":"1a2b3c4d","secret":"${secret}","id":"1a2b3c4d"}`), false],
    [r(k('1a2b3c4d', secret, ',"extra":1')), false],
    [r(`{"id":"1a2b3c4d"}`), false],
    [`{"Version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"primary":"1a2b3c4d","primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}],"keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}],"comment":""}`, false],
    [`{"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]}`, false],
    [`{"version":1,"keys":[${k('1a2b3c4d')}]}`, false],
    // version
    [ring('1.0'), false],
    [ring('1e0'), false],
    [ring('"1"'), false],
    [ring('null'), false],
    [ring('2'), false],
    [ring('-1'), false],
    [ring('01'), false],
    // keys
    [`{"version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')},null]}`, false],
    [`{"version":1,"primary":"1a2b3c4d","keys":[]}`, false],
    [`{"version":1,"primary":"1a2b3c4d","keys":null}`, false],
    [`{"version":1,"primary":"1a2b3c4d","keys":{}}`, false],
    [many(256), P],
    [many(257), false],
    // promote_at
    [promote('"2025-12-31T23:00:00Z"'), Q],
    [promote('"2026-01-01T00:00:00.000000001Z"'), P],
    [promote('"2026-01-01T00:00:00.5Z"'), P],
    [promote('"2026-01-01T01:00:00+01:00"'), Q], // exactly now
    [promote('"2026-01-01T23:59:00+23:59"'), Q],
    [promote('"2025-12-31T23:00:00-00:00"'), Q],
    [promote('"2024-02-29T00:00:00Z"'), Q],
    [promote('"1970-01-01T00:00:00Z"'), Q],
    [promote('"9999-12-31T23:59:59.999999999Z"'), P],
    // keys due at the same instant: the one listed last in keys seals
    [r(`${k('1a2b3c4d')},${due('5e6f7a8b', '2025-12-31T23:00:00Z')},${due('0badf00d', '2026-01-01T00:00:00+01:00')}`), R],
    [r(`${k('1a2b3c4d')},${due('0badf00d', '2025-12-31T23:00:00Z')},${due('5e6f7a8b', '2026-01-01T00:00:00+01:00')}`), Q],
    [r(`${due('0badf00d', '2025-12-31T23:00:00.000Z')},${due('5e6f7a8b', '2025-12-31T23:00:00Z')},${k('1a2b3c4d')}`), Q],
    [r(`${k('1a2b3c4d')},${due('5e6f7a8b', '2025-12-31T23:00:00Z')},${due('0badf00d', '2025-12-31T22:59:59.999999999Z')}`), Q],
    [r(`${k('1a2b3c4d')},${due('5e6f7a8b', '2026-01-01T00:00:00Z')},${due('0badf00d', '2026-01-01T00:00:00Z')}`), R],
    [promote('"2025-12-31T1:00:00Z"'), false],
    [promote('"2025-12-31T10:00:00,5Z"'), false],
    [promote('"2025-12-31T10:00:00.Z"'), false],
    [promote('"2025-12-31T10:00:00.1234567891Z"'), false],
    [promote('"2025-12-31T10:00:00+24:00"'), false],
    [promote('"2025-12-31T10:00:00-12:60"'), false],
    [promote('"2025-12-31T10:00:00+0100"'), false],
    [promote('"2025-12-31t10:00:00Z"'), false],
    [promote('"2025-12-31T10:00:00z"'), false],
    [promote('"2025-12-31 10:00:00Z"'), false],
    [promote('"2025-12-31T10:00:00"'), false],
    [promote('"2025-02-29T10:00:00Z"'), false],
    [promote('"2025-04-31T10:00:00Z"'), false],
    [promote('"2025-13-01T10:00:00Z"'), false],
    [promote('"2025-12-00T10:00:00Z"'), false],
    [promote('"2025-12-31T10:00:60Z"'), false],
    [promote('"2025-12-31T24:00:00Z"'), false],
    [promote('"0000-12-31T10:00:00Z"'), false],
    [promote('"1969-12-31T23:59:59Z"'), false],
    [promote('"1970-01-01T00:30:00+01:00"'), false],
    [promote('"9999-12-31T23:30:00-01:00"'), false],
    [promote('"+2025-12-31T10:00:00Z"'), false],
    [promote('""'), false],
    [promote('null'), false],
    [promote('1767225600'), false],
    [r(k('1a2b3c4d', secret, ',"promote_at":"2025-12-31T23:00:00Z"')), false],
    [r(k('1a2b3c4d', secret, ',"promote_at":"2027-01-01T00:00:00Z"')), false],
    // not a ring
    ['[]', false],
    ['null', false],
    ['', false],
    ['{', false],
    [`{"version":1,"primary":"1a2b3c4d","keys":[${k('1a2b3c4d')}]`, false],
  ];

  it('accepts and refuses what FORMAT.md says, as Go does, with the same primary', () => {
    const goAnswers = goInterop(texts.map(([text]) => ({ op: 'ring', ring: text, now: NOW })));
    texts.forEach(([text, want], i) => {
      const what = `ring ${JSON.stringify(text).slice(0, 300)}`;
      let js;
      try {
        js = parseKeyRing(text).primaryAt(at(NOW));
      } catch (err) {
        assert.match(err.message, /^cookiesession: /);
        js = false;
      }
      const go = goAnswers[i].error ? false : goAnswers[i].key_id;
      assert.equal(go, want, `${what}: Go says ${goAnswers[i].reason ?? 'ok'}`);
      assert.equal(js, want, what);
    });
  });

  it('names a byte-order mark as Go does', () => {
    const text = `\ufeff${r(k('1a2b3c4d'))}`;
    const [go] = goInterop([{ op: 'ring', ring: text, now: NOW }]);
    assert.equal(go.reason, 'cookiesession: parsing key ring: the text starts with a UTF-8 byte-order mark; save it without one');
    assert.throws(() => parseKeyRing(text), { message: go.reason });
    assert.throws(() => parseKeyRing(new TextEncoder().encode(text)), { message: go.reason });
    // Go's own tests cover UTF-16: the interop program takes the text as a JSON string.
    const utf16 = (bom) => Uint8Array.from([...bom, ...Buffer.from(r(k('1a2b3c4d')), 'utf16le')]);
    for (const bom of [[0xff, 0xfe], [0xfe, 0xff]]) {
      assert.throws(() => parseKeyRing(utf16(bom)), { message: 'cookiesession: parsing key ring: the text is UTF-16 (it starts with a byte-order mark); save it as UTF-8 without one' });
    }
  });

  it("names a key's malformed id by its place, as Go does", () => {
    for (const id of ['1a2b3c4', '00000000']) {
      const text = r(`${k('1a2b3c4d')},${k(id)}`);
      const [go] = goInterop([{ op: 'ring', ring: text, now: NOW }]);
      assert.match(go.reason, / \(keys\[1\]\.id\)$/);
      assert.throws(() => parseKeyRing(text), { message: go.reason });
    }
  });

  it('names a key id given twice as Go does, and how its copies differ', () => {
    const at = (time) => `,"promote_at":"${time}"`;
    const Q5 = '5e6f7a8b';
    const texts = [
      r(`${k('1a2b3c4d')},${k(Q5, secret2)},${k(Q5, secret2)}`),
      r(`${k('1a2b3c4d')},${k(Q5, secret2, at('2030-01-01T00:00:00Z'))},${k(Q5, secret2)}`),
      r(`${k('1a2b3c4d')},${k(Q5, secret2)},${k(Q5, secret2, at('2030-01-01T00:00:00Z'))}`),
      r(`${k('1a2b3c4d')},${k(Q5, secret2, at('2030-01-01T00:00:00Z'))},${k(Q5, secret2, at('2030-01-01T01:00:00Z'))}`),
      // One instant written two ways is one promotion.
      r(`${k('1a2b3c4d')},${k(Q5, secret2, at('2030-01-01T01:00:00+01:00'))},${k(Q5, secret2, at('2030-01-01T00:00:00Z'))}`),
      r(`${k('1a2b3c4d')},${k('1a2b3c4d', secret, at('2030-01-01T00:00:00Z'))}`),
    ];
    const goAnswers = goInterop(texts.map((text) => ({ op: 'ring', ring: text, now: NOW })));
    const seen = new Set();
    texts.forEach((text, i) => {
      const go = goAnswers[i].reason;
      assert.match(go, /^cookiesession: duplicate key id /);
      assert.throws(() => parseKeyRing(text), { message: go }, text);
      seen.add(go.replace(/keys\[\d\]/g, 'keys[i]').replace(/id [0-9a-f]{8}/g, 'id ID'));
    });
    assert.equal(seen.size, 4, [...seen].join('\n')); // once, with, without, two times
  });

  it('names two secrets under one id as Go does, and how to get the fingerprints Go names', async () => {
    const text = r(`${k('1a2b3c4d')},${k('5e6f7a8b')},${k('5e6f7a8b', secret2)}`);
    const [go] = goInterop([{ op: 'ring', ring: text, now: NOW }]);
    const named = / \(fingerprints ([0-9a-f]{12}) and ([0-9a-f]{12})\)/.exec(go.reason);
    assert.ok(named, `Go: ${go.reason}`);
    // The port cannot hash at once: it names the command that prints Go's message, not
    // KeyRing.fingerprint, which a ring that does not parse cannot offer.
    const want = go.reason.replace(named[0], ' (this text given to cookiesession list, by -ring FILE or on stdin by -ring -, names their fingerprints)').replace(', GenerateKey in Go', '');
    assert.throws(() => parseKeyRing(text), { message: want });
    // README's way to the same fingerprints from JS: each key in a ring of its own.
    const fingerprint = (id, secret) => parseKeyRing(JSON.stringify({ version: 1, primary: id, keys: [{ id, secret }] })).fingerprint(parseInt(id, 16));
    assert.deepEqual([await fingerprint('5e6f7a8b', secret), await fingerprint('5e6f7a8b', secret2)], [named[1], named[2]]);
  });

  it('names two rings joined, text after the ring and a merge conflict as Go does', () => {
    const one = r(k('1a2b3c4d'));
    const texts = [
      `${one}\n${one}\n`, // two rings joined
      `${one} {}`,
      `${one}\n# rotated in May\n`,
      `${one}x`,
      `${one}}`,
      `${one} "note"`,
      `${r(k('1a2b3c4d', secret.slice(1)))} {}`, // a bad secret: the text after it is named first
      `{"version":1,"note":1} {}`, // an unknown member: named first
      `<<<<<<< HEAD\n${one}\n=======\n${one}\n>>>>>>> rotate\n`,
      `{"version":1,"primary":"1a2b3c4d","keys":[\r\n<<<<<<< ours\r\n${k('1a2b3c4d')}\r\n=======\r\n${k('1a2b3c4d')}\r\n>>>>>>> theirs\r\n]}`,
      `${one}\n=======x\n`, // not a marker: text after the ring
    ];
    const goAnswers = goInterop(texts.map((text) => ({ op: 'ring', ring: text, now: NOW })));
    const seen = new Set();
    texts.forEach((text, i) => {
      const go = goAnswers[i].reason;
      assert.throws(() => parseKeyRing(text), { message: go }, text);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(text)), { message: go }, text);
      seen.add(go);
    });
    for (const want of ['a second object follows the ring', "remove what follows the ring's closing brace", "a merge conflict's markers", 'unknown member']) {
      assert.ok([...seen].some((reason) => reason.includes(want)), `no text was refused for ${want}: ${[...seen]}`);
    }
  });

  it("names a wrapped ring as Go's ParseKeyRing does, each with its own fix", () => {
    const one = r(k('1a2b3c4d'));
    const texts = [
      `{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","Name":"ring","SecretString":${JSON.stringify(one)}}`,
      `{"Parameter":{"Name":"/app/ring","Value":${JSON.stringify(one)}}}`,
      `${JSON.stringify(one)}\n`,
      one.replaceAll('"', '\\"'),
      btoa(one),
      btoa(btoa(one)),
      `"${one}`,
    ];
    const goAnswers = goInterop(texts.map((text) => ({ op: 'ring', ring: text, now: NOW })));
    // The wrapping's name, before its fix: Go's fix speaks to a caller who
    // passed bytes (jq -r, decode it), the port's to a secret or variable.
    const head = 'cookiesession: parsing key ring: the text holds the key ring ';
    const wrapping = (msg) => (msg.startsWith(head) ? msg.slice(head.length).split(/ \(|: /)[0] : msg);
    const seen = new Set();
    texts.forEach((text, i) => {
      const go = goAnswers[i].reason;
      assert.ok(go.startsWith(head), `Go: ${go}`);
      assert.throws(() => parseKeyRing(text), (err) => wrapping(err.message) === wrapping(go), `${text}: Go says ${go}`);
      seen.add(wrapping(go));
    });
    assert.equal(seen.size, texts.length, [...seen].join(' | '));
  });

  it("names a ring given as a whole .env line as Go's ParseKeyRing does, its quotes paired or stray", () => {
    const one = r(k('1a2b3c4d'));
    const texts = [
      `COOKIESESSION_KEYS=${one}`,
      `export COOKIESESSION_KEYS='${one}'\n`,
      `COOKIESESSION_KEYS="${one}`, // the value's quote opened and not closed
      `COOKIESESSION_KEYS=${one}"`, // closed at the line's end and not opened
      `"COOKIESESSION_KEYS=${one}"`, // the line inside quotes, name and all
      `export 'COOKIESESSION_KEYS=${one}'`,
      `"COOKIESESSION_KEYS=${one}\n`, // a quote before the name, not closed
      `export "COOKIESESSION_KEYS=${one}`,
      `'export COOKIESESSION_KEYS=${one}`,
    ];
    const goAnswers = goInterop(texts.map((text) => ({ op: 'ring', ring: text, now: NOW })));
    // The wrapping's name, up to its fix: Go's fix speaks to a caller who
    // passed bytes, the port's to a secret or variable.
    const head = 'cookiesession: parsing key ring: the text holds the key ring as a whole .env line';
    const named = (msg) => (msg.startsWith(head) ? msg.split(': ')[2] : msg);
    const seen = new Set();
    texts.forEach((text, i) => {
      const go = goAnswers[i].reason;
      assert.ok(go.startsWith(head), `Go: ${go}`);
      assert.throws(() => parseKeyRing(text), (err) => named(err.message) === named(go), `${text}: Go says ${go}`);
      seen.add(named(go));
    });
    assert.equal(seen.size, 4, [...seen].join(' | ')); // the line, its value's stray quote, the line quoted, a stray quote before the name
  });

  it("names an operator's mistake in a secret, an id or the whole text as Go's ParseKeyRing does, never echoing a secret", () => {
    const one = r(k('1a2b3c4d'));
    const b64 = (t) => Buffer.from(t).toString('base64');
    const raw = Buffer.from(secret, 'base64');
    // Each text, and whether JS says Go's message whole (true) or only up to
    // the fix (false): Go's fix speaks to a caller who passed bytes, the
    // port's to a secret or variable.
    const texts = [
      // A secret in another form than padded standard base64.
      [r(k('1a2b3c4d', raw.toString('hex'))), true],
      [r(k('1a2b3c4d', raw.toString('hex').toUpperCase())), true],
      [r(k('1a2b3c4d', secret2.replaceAll('+', '-').replaceAll('/', '_'))), true],
      [r(k('1a2b3c4d', secret2.replaceAll('+', '-').replaceAll('/', '_').slice(0, -1))), true],
      [r(k('1a2b3c4d', secret.slice(0, -1))), true],
      [r(k('1a2b3c4d', secret.replace('8=', '9='))), true],
      [r(k('1a2b3c4d', ` ${secret}`)), true],
      [r(k('1a2b3c4d', `${secret.slice(0, 20)}\\r\\n${secret.slice(20)}`)), true],
      [r(k('1a2b3c4d', `${secret.slice(1, 20)}\\t${secret.slice(20)}`)), true],
      [r(k('1a2b3c4d', b64(secret))), true],
      [r(k('1a2b3c4d', b64(`${secret}\n`))), true], // echo without -n, then base64
      [r(k('1a2b3c4d', b64(raw.toString('hex')))), true],
      [r(k('1a2b3c4d', raw.subarray(0, 16).toString('base64'))), true],
      [r(k('1a2b3c4d', Buffer.concat([raw, raw]).toString('base64'))), true],
      [r(k('1a2b3c4d', '')), true],
      [r(k('1a2b3c4d', `*${secret.slice(1)}`)), true],
      [r(k('1a2b3c4d', `${secret}==`)), true],
      [r(k('1a2b3c4d', `=${secret.slice(1)}`)), true],
      [r(k('1a2b3c4d', `${secret.slice(0, 40)}=`)), true],
      // An id pasted with what came with it, or a fingerprint for it.
      [r(`${k('1a2b3c4d')},${k('5e6f7a8b ', secret2)}`), true],
      [r(`${k('1a2b3c4d')},${k('\\r5e6f7a8b', secret2)}`), true],
      [r(`${k('1a2b3c4d')},${k("'5e6f7a8b'", secret2)}`), true],
      [r(`${k('1a2b3c4d')},${k('\\"5e6f7a8b\\"', secret2)}`), true],
      [`{"version":1,"primary":"0X1a2b3c4d","keys":[${k('1a2b3c4d')}]}`, true],
      [r(`${k('1a2b3c4d')},${k('9d069e07c8cb', secret2)}`), true],
      // The whole text: UTF-16 without a mark, a comment, YAML.
      [[...one].join('\0') + '\0', true],
      ['\0' + [...one].join('\0'), true],
      [` \0${[...one].join('\0')}\0`, true],
      [`// the ring\n${one}`, true],
      [`# the ring\n${one}`, true],
      [`/* the ring */ ${one}`, true],
      [`version: 1\nprimary: "1a2b3c4d"\nkeys:\n  - id: "1a2b3c4d"\n    secret: "${secret}"\n`, true],
      [`apiVersion: v1\nkind: Secret\nstringData:\n  ring.json: |\n    ${one}\n`, false],
      // A single secret where the ring belongs, and the ring in base64 in a member.
      [`${secret}\n`, false],
      [raw.toString('base64url'), false],
      [raw.toString('hex'), false],
      [secret2.slice(0, -1), false], // unpadded, with a slash: a secret, not a path
      [Buffer.concat([raw, raw]).toString('base64'), false],
      [JSON.stringify({ apiVersion: 'v1', data: { 'ring.json': b64(one) }, kind: 'Secret', metadata: { name: 'ring' }, type: 'Opaque' }), false],
      [JSON.stringify({ kind: 'Secret', data: { ring: b64(`${JSON.stringify(JSON.parse(one), null, 2)}\n`) } }), false],
    ];
    const goAnswers = goInterop(texts.map(([text]) => ({ op: 'ring', ring: text, now: NOW })));
    const upToFix = (msg) => msg.split(/: (?=make one|mount the|take the value|pass that|set the)/)[0];
    texts.forEach(([text, whole], i) => {
      const go = goAnswers[i].reason;
      assert.ok(go, `Go accepts ${JSON.stringify(text)}`);
      const want = whole ? go : upToFix(go);
      assert.throws(() => parseKeyRing(text), (err) => (whole ? err.message === want : upToFix(err.message) === want), `${JSON.stringify(text)}: Go says ${go}`);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(text)), (err) => err.message.startsWith(want), 'as bytes');
      for (const shown of [secret.slice(1, 9), secret2.slice(1, 9), raw.toString('hex').slice(2, 12)]) assert.ok(!go.includes(shown), `Go shows a secret: ${go}`);
    });
  });

  it('calls no URL, Windows path or ARN YAML, as Go does not: no space follows its colon', () => {
    const texts = ['https://vault.example.com/v1/secret/data/ring', 'C:\\keys\\ring.json', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ring'];
    const goAnswers = goInterop(texts.map((text) => ({ op: 'ring', ring: text, now: NOW })));
    texts.forEach((text, i) => {
      assert.ok(goAnswers[i].reason && !goAnswers[i].reason.includes('YAML'), `Go: ${goAnswers[i].reason}`);
      assert.throws(() => parseKeyRing(text), (err) => !err.message.includes('YAML'), text);
    });
    assert.throws(() => parseKeyRing('name: value\n'), /the text is YAML/);
  });

  it('says an empty ring text is empty, as Go does', () => {
    for (const text of ['', ' \n\t\r\n']) {
      const [go] = goInterop([{ op: 'ring', ring: text, now: NOW }]);
      assert.match(go.reason, /^cookiesession: parsing key ring: the text is empty /);
      assert.throws(() => parseKeyRing(text), { message: go.reason });
    }
  });

  it('says a truncated ring text ends early, as Go does', () => {
    const text = r(`${k('1a2b3c4d')},${k('2b3c4d5e')}`);
    const cuts = [];
    for (let n = 1; n < text.length; n++) if (text.slice(0, n).trim() !== '') cuts.push(text.slice(0, n));
    const goReasons = goInterop(cuts.map((cut) => ({ op: 'ring', ring: cut, now: NOW })));
    const want = 'cookiesession: parsing key ring: the text ends before the ring does: a truncated file, or one read while it was being written';
    cuts.forEach((cut, i) => {
      assert.equal(goReasons[i].reason, want, cut);
      assert.throws(() => parseKeyRing(cut), { message: want }, cut);
    });
  });

  it('never shows a secret', () => {
    const parsed = parseKeyRing(r(k('1a2b3c4d')));
    assert.doesNotMatch(`${parsed} ${JSON.stringify(parsed)}`, /AAECAwQF/);
    for (const text of [r(k('1a2b3c4d', secret.slice(1))), r(`{"id":"1a2b3c4d","${secret}":""}`), r(k(secret.slice(0, 8)))]) {
      assert.throws(() => parseKeyRing(text), (err) => !err.message.includes(secret.slice(1, 8)));
    }
  });
});

describe('JSON values, against Go json.Valid', () => {
  const samples = [
    '{}', '[]', '""', '0', '-0', '1.5e+10', ' true ', 'null', '\t\n\r 1', '"\\u00e9\\ud83c\\udf6a"', '"\\/"',
    '', ' ', '{', '}', '[1,]', '{"a":1,}', '{"a"}', '01', '1.', '.5', '+1', '1e', '-', 'nan', 'True', "'a'",
    '"\t"', '"\\x"', '"\\u12"', '[1 2]', '{"a":1 "b":2}', '1 2', '\u00a01', '\ufeff1', '"é"', '[[[]]]', '{"a":{"b":[{}]}}',
    '['.repeat(10001) + ']'.repeat(10001), '{"a":'.repeat(10000) + '1' + '}'.repeat(10000), '{"a":'.repeat(10001) + '1' + '}'.repeat(10001),
  ];
  const byteSamples = [...samples.map((s) => new TextEncoder().encode(s)), Uint8Array.of(0x22, 0xff, 0x22), Uint8Array.of(0xff), Uint8Array.of(0x22, 0x00, 0x22)];

  it('agrees on every sample', () => {
    const goAnswers = goInterop(byteSamples.map((b) => ({ op: 'json_valid', hex: hex(b) })));
    byteSamples.forEach((b, i) => assert.equal(validJSON(b), goAnswers[i].valid === true, `sample ${i}: ${hex(b).slice(0, 40)}`));
  });
});

// canon writes a parsed JSON value as Go's encoding/json writes the same
// value (keys sorted, -0 kept): numbers as ES6 writes them, as Go does.
function canon(v) {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

describe("JSON values read in JS with getJSON and in Go with GetJSON into an any", () => {
  // Each is read as the same value by both, or refused by both: no number rounded past 2^53
  // or to 0, no lone surrogate read as itself on one side and as U+FFFD on the other, no
  // byte that is not UTF-8 read as U+FFFD.
  const texts = [
    '{"id":9007199254740993}', '[-9223372036854775808]', '[-9223372036854775809]', '18446744073709551615', '[1e-400]', '-1e-400', '1e400', '"\\ud800"',
    '{"\\udc00":1}', '"\\ud83c\\udf6a"', '["\\\\ud800"]', '"9007199254740993"', '9007199254740992', '-9007199254740991',
    '9007199254740993.0', '9007199254740993e0', '0.1', '-0', '-0.0e-999', '5e-324', '1.7976931348623157e308', '1e21', '1e-7',
    '123456789012345678901234567890e-10', '{"a":[{"b":null,"c":true}],"d":"é"}', '{"a":1,"a":2}',
  ];
  const samples = [...texts.map((t) => new TextEncoder().encode(t)), Uint8Array.of(0x22, 0xff, 0xfe, 0x22)];
  const jsRead = (bytes) => {
    try {
      return canon(new Values().set('j', bytes, 'json.RawMessage').getJSON('j'));
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
      return 'refused';
    }
  };
  const goRead = (a) => (a.error ? 'refused' : a.json);

  it('agrees on every text', () => {
    const goAnswers = goInterop(samples.map((b) => ({ op: 'get_json', ring, hex: hex(b) })));
    const got = samples.map((b, i) => [new TextDecoder().decode(b), jsRead(b), goRead(goAnswers[i])]);
    for (const [text, js, go] of got) assert.equal(js, go, `${text}: JS ${js}, Go ${go} (${goAnswers.find((a) => a.reason)?.reason})`);
    const refused = got.filter(([, js]) => js === 'refused').map(([text]) => text);
    // The last, bytes that are not UTF-8, both read as U+FFFD until they refused them.
    assert.deepEqual(refused, ['{"id":9007199254740993}', '[-9223372036854775809]', '18446744073709551615', '[1e-400]', '-1e-400', '1e400', '"\\ud800"', '{"\\udc00":1}', '"\ufffd\ufffd"']);
  });

  it('Go reads what setJSON writes as the value JS gave, and setJSON refuses what it would change', () => {
    const given = [{ n: 2 ** 53 - 1, f: 0.1, tiny: 5e-324, big: 1e300, s: '🍪 é \ufffd', list: [true, null, 'x'], exact: [2 ** 53 + 2, 1e20, 2 ** 70] }, [Number.MAX_VALUE, -Number.MIN_VALUE], 'text'];
    const goAnswers = goInterop(given.map((v) => ({ op: 'get_json', ring, hex: hex(new Values().setJSON('j', v).get('j')) })));
    given.forEach((v, i) => assert.equal(goRead(goAnswers[i]), canon(v), JSON.stringify(v)));
    for (const lossy of [NaN, -Infinity, -0, [{ s: '\ud800' }], new Date(NaN), { id: 2 ** 60 }, { id: 1n }, [undefined], { f() {} }]) assert.throws(() => new Values().setJSON('j', lossy), TypeError);
  });
});

describe('values changed at the edge without a type, against Go', () => {
  it('a Go number or JSON value set again from JS comes back to Go as the type Go stored', () => {
    const stored = [
      { key: enc('visits'), type: 'int32', value: '41' },
      { key: enc('count'), type: 'int', value: '9' },
      { key: enc('uid'), type: 'uint64', value: String(2n ** 64n - 2n) },
      { key: enc('ratio'), type: 'float32', bits: '3fc00000' },
      { key: enc('prefs'), type: 'json.RawMessage', hex: enc('{"theme":"dark"}') },
    ];
    const options = { name: 'session', maxChunks: 1 };
    const [issued] = goInterop([{ op: 'manager_seal', ring, now: NOW, max_age: 86400, values: stored, ...options }]);
    const cookies = new SessionCookies(parseKeyRing(ring), options);
    const record = cookies.open(issued.set_cookie[0].split(';')[0], at(NOW));
    const { values } = record;
    values.set('visits', values.get('visits') + 1).set('count', 10).set('uid', values.get('uid') + 1n).set('ratio', 0.25);
    values.set('prefs', JSON.stringify({ theme: 'light' }));
    const [line] = cookies.seal(record, at(NOW));
    const [opened] = goInterop([{ op: 'manager_open', ring, now: NOW, max_age: 86400, cookie: line.split(';')[0], ...options }]);
    assert.equal(opened.error, undefined, opened.reason);
    assert.deepEqual(normal(opened.values), normal([
      { key: enc('count'), type: 'int', value: '10' },
      { key: enc('prefs'), type: 'json.RawMessage', hex: enc('{"theme":"light"}') },
      { key: enc('ratio'), type: 'float32', bits: '3e800000' },
      { key: enc('uid'), type: 'uint64', value: String(2n ** 64n - 1n) },
      { key: enc('visits'), type: 'int32', value: '42' },
    ]));
  });

  it("refuses an idle timeout the session's MaxAge would end first, as Go's SetLifetime", () => {
    const cases = [{ max_age: 600, idle: 3600 }, { max_age: 0, idle: 90000 }, { max_age: 3600, idle: 3600 }, { max_age: 0, idle: 86400 }];
    const goAnswers = goInterop(cases.map((l) => ({ op: 'manager_seal', ring, now: NOW, max_age: 86400, max_lifetime: 7776000, lifetime: { ...l, browser_session: false },
      values: [{ key: enc('n'), type: 'int', value: '1' }] })));
    const cookies = new SessionCookies(parseKeyRing(ring), { maxLifetime: 7776000 });
    cases.forEach((l, i) => {
      const js = outcomeOf(() => cookies.seal({ lifetime: { maxAge: l.max_age, idleTimeout: l.idle } }, at(NOW)));
      const go = goAnswers[i].error ? goAnswers[i].reason.replace(/^cookiesession: SetLifetime: /, '').split(' ')[0] : 'sealed';
      assert.equal(js, go === 'IdleTimeout' ? 'refused' : go, JSON.stringify(l));
    });
  });

  it("refuses a persistent lifetime past the 400 days browsers keep, as Go's SetLifetime", () => {
    const cases = [
      { max_age: 63072000, idle: 0 }, { max_age: 63072000, idle: 2592000 }, { max_age: 63072000, idle: 34560000 }, { max_age: 63072000, idle: 34560001 },
      { max_age: 34560000, idle: 0 }, { max_age: 34560001, idle: 0 }, { max_age: 86400000, idle: 0 }, { max_age: 63072000, idle: 0, browser_session: true },
    ];
    const options = { maxLifetime: 100000000 };
    const goAnswers = goInterop(cases.map((l) => ({ op: 'manager_seal', ring, now: NOW, max_age: 86400, max_lifetime: options.maxLifetime,
      lifetime: { browser_session: false, ...l }, values: [{ key: enc('n'), type: 'int', value: '1' }] })));
    const cookies = new SessionCookies(parseKeyRing(ring), options);
    const maxAgeOf = (line) => line.match(/; Max-Age=(\d+);/)?.[1] ?? 'none';
    cases.forEach((l, i) => {
      let js;
      try {
        js = maxAgeOf(cookies.seal({ lifetime: { maxAge: l.max_age, idleTimeout: l.idle, browserSession: l.browser_session ?? false } }, at(NOW))[0]);
      } catch (err) {
        assert.match(err.message, /^cookiesession: lifetime: the session's .* 400 days/, JSON.stringify(l));
        js = 'refused';
      }
      const go = goAnswers[i].error ? 'refused' : maxAgeOf(goAnswers[i].set_cookie[0]);
      if (goAnswers[i].error) assert.match(goAnswers[i].reason, /^cookiesession: SetLifetime: the session's .* 400 days/, JSON.stringify(l));
      assert.equal(js, go, JSON.stringify(l));
    });
  });
});

function outcomeOf(f) {
  try {
    f();
    return 'sealed';
  } catch (err) {
    assert.match(err.message, /idleTimeout \d+ is longer than the session's maxAge/);
    return 'refused';
  }
}

describe('an edge built with other options than the Go Manager', () => {
  // The reason stays Go's (a Go Manager under the edge's options gives the
  // same); the message adds the option that differs, which the edge could
  // not otherwise tell from a forged or stale cookie.
  const refusal = (cookies, header, now) => {
    try {
      cookies.open(header, at(now));
    } catch (err) {
      assert.ok(err instanceof SessionError, String(err));
      return err;
    }
    assert.fail('opened');
  };
  const goReason = (header, now, options) =>
    goInterop([{ op: 'manager_open', ring, name: 'session', now, max_age: 86400, max_cookie_size: 4096, cookie: header, ...options }])[0];
  const issue = (options, values = [{ key: enc('u'), type: 'string', hex: enc('x') }]) =>
    goInterop([{ op: 'manager_seal', ring, name: 'session', max_age: 86400, max_cookie_size: 4096, values, ...options }])[0].set_cookie
      .filter((l) => !l.includes('; Max-Age=0')).map((l) => l.split(';')[0]).join('; ');

  it('names a chunk beyond maxChunks', () => {
    const header = issue({ now: NOW, max_chunks: 4 }, [{ key: enc('avatar'), type: '[]byte', hex: enc('x'.repeat(3500)) }]);
    const err = refusal(new SessionCookies(parseKeyRing(ring), { name: 'session' }), header, NOW);
    const go = goReason(header, NOW, { max_chunks: 1 });
    assert.deepEqual([err.kind, err.reason], [go.error, go.reason]);
    assert.equal(err.message, `cookiesession: ${err.reason}; the request also carries the cookie session.1, a chunk beyond maxChunks 1: set the maxChunks and maxCookieSize options to the MaxChunks and MaxCookieSize of the Go Options that wrote it`);
  });

  it("names maxLifetime when it cuts a session's own lifetime", () => {
    const header = issue({ now: NOW - 2 * 86400, max_chunks: 1, max_lifetime: 30 * 86400, lifetime: { max_age: 30 * 86400 } });
    assert.equal(goReason(header, NOW, { max_chunks: 1, max_lifetime: 30 * 86400 }).is_new, undefined, 'Go opens it');
    const err = refusal(new SessionCookies(parseKeyRing(ring), { name: 'session' }), header, NOW);
    const go = goReason(header, NOW, { max_chunks: 1 });
    assert.deepEqual([err.kind, err.reason], [go.error, go.reason]);
    assert.equal(err.message, `cookiesession: ${err.reason}; the session's own lifetime asks for MaxAge 720h0m0s, which the ceiling of 86400 s cuts (the maxLifetime option, by default maxAge): set maxLifetime to the MaxLifetime of the Go Options that wrote it`);
  });

  it('names maxAge when the token was sealed under a longer one', () => {
    const header = issue({ now: NOW - 2 * 86400, max_chunks: 1, max_age: 7 * 86400 });
    const err = refusal(new SessionCookies(parseKeyRing(ring), { name: 'session' }), header, NOW);
    const go = goReason(header, NOW, { max_chunks: 1 });
    assert.deepEqual([err.kind, err.reason], [go.error, go.reason]);
    assert.equal(err.message, `cookiesession: ${err.reason}; the token's own deadline is 2026-01-06T00:00:00Z, later: it was sealed under a longer MaxAge; set the maxAge option to the MaxAge of the Go Options that wrote it`);
  });

  it('adds nothing to a refusal the options do not explain', () => {
    const header = issue({ now: NOW - 2 * 86400, max_chunks: 1 });
    const err = refusal(new SessionCookies(parseKeyRing(ring), { name: 'session' }), `${header}; session.1=x`, NOW);
    assert.equal(err.message, `cookiesession: ${err.reason}`);
    assert.equal(err.kind, 'expired');
  });
});

// A Name changed with the old one in Go's Options.Retired and Carry: Go's
// Manager reads a request that carries only the old cookie as the user's
// session, where a SessionCookies of the new name finds none. README's
// recipe, run as written, reads what Go reads and writes the lines Go
// writes.
describe('a renamed cookie that Go carries (Retired with Carry), read at the edge as README says', () => {
  const recipe = (...args) => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const end = readme.indexOf('?? renamed.open(');
    assert.ok(end >= 0, "README's edge section shows no way to read a cookie Go carries");
    const start = readme.lastIndexOf('```js\n', end) + 6;
    const code = `${readme.slice(start, readme.indexOf('```', end))}\nreturn { cookies, renamed, record };`;
    return new Function('ring', 'header', 'now', 'SessionCookies', code)(...args);
  };
  const goRead = (header) =>
    goInterop([{ op: 'manager_read', ring, name: '__Host-session', now: NOW, max_age: 86400, max_chunks: 2, carry: { name: 'session', max_chunks: 2 }, cookie: header }])[0];
  const issue = (name, who) =>
    goInterop([{ op: 'manager_seal', ring, name, now: NOW - 3600, max_age: 86400, max_chunks: 2,
      values: [{ key: enc('who'), type: 'string', hex: enc(who) }, { key: enc('pad'), type: '[]byte', hex: enc('x'.repeat(4000)) }] }])[0]
      .set_cookie.filter((l) => !l.includes('; Max-Age=0')).map((l) => l.split(';')[0]).join('; ');
  const tokenless = (lines) => lines.map((l) => l.replace(/=[A-Za-z0-9_-]+;/, '=TOKEN;'));
  const old = issue('session', 'alice');

  it('opens the session from the old cookie, as Go does, where the new name alone finds none', () => {
    const go = goRead(`theme=dark; ${old}`);
    assert.ok(go.id, JSON.stringify(go));
    const { cookies, renamed, record } = recipe(parseKeyRing(ring), `theme=dark; ${old}`, at(NOW), SessionCookies);
    assert.equal(cookies.open(`theme=dark; ${old}`, at(NOW)), null, 'the new name alone');
    assert.equal(hex(record.id), go.id);
    assert.deepEqual(normal(toWire(record.values)), normal(go.values));
    const lines = [...renamed.clear(), ...cookies.seal(record, at(NOW), cookies.chunksSent(old))];
    assert.deepEqual(tokenless(lines), tokenless(go.set_cookie));
    const [back] = goInterop([{ op: 'manager_open', ring, name: '__Host-session', now: NOW, max_age: 86400, max_chunks: 2,
      cookie: lines.filter((l) => !l.includes('; Max-Age=0')).map((l) => l.split(';')[0]).join('; ') }]);
    assert.deepEqual(normal(back.values), normal(go.values));
  });

  it('looks past no cookie of the new name, whether it opens or not, as Go does', () => {
    const bob = issue('__Host-session', 'bob');
    const go = goRead(`${old}; ${bob}`);
    const { record } = recipe(parseKeyRing(ring), `${old}; ${bob}`, at(NOW), SessionCookies);
    assert.equal(record.values.get('who'), 'bob');
    assert.deepEqual(normal(toWire(record.values)), normal(go.values));

    const forged = `${old}; __Host-session=${'A'.repeat(120)}`;
    assert.equal(goRead(forged).id, undefined, 'Go reads no session');
    assert.throws(() => recipe(parseKeyRing(ring), forged, at(NOW), SessionCookies), (err) => err instanceof SessionError && err.kind === 'invalid');

    assert.equal(goRead('theme=dark').id, undefined);
    assert.equal(recipe(parseKeyRing(ring), 'theme=dark', at(NOW), SessionCookies).record, null);
  });
});
