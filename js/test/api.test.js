// The JavaScript side of the API: values are checked when they are set,
// nonces are fresh, sizes and cookie attributes are enforced.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ResponseCookies } from '@edge-runtime/cookies';
import { build } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { Codec, GoTime, KeyRing, MIN_TOKEN_LEN, parseKeyRing, SessionCookies, SessionError, Values } from '../src/index.js';
import { jsDir, repoRoot, ringText } from './helpers.js';

const ring = parseKeyRing(ringText([{ id: 7, secret: new Uint8Array(32).fill(9) }]));
const now = new Date(Date.UTC(2026, 0, 1));

describe('Values', () => {
  it('refuses a value that does not fit its type when it is set, and keeps the old one', () => {
    const v = new Values().set('n', 1, 'int8');
    const bad = [
      ['n', 128, 'int8'], ['n', 2n ** 64n, 'uint64'], ['n', -1n, 'uint'], ['n', 0.1, 'float32'], ['n', 1.5, 'int32'],
      ['n', '\ud800', 'string'], ['n', '{', 'json.RawMessage'], ['n', new Map([['a', '1'], [new Uint8Array([97]), '2']]), 'map[string]string'],
      ['n', 1, 'bool'], ['n', 'x', 'complex128'], ['n', { a: 1 }, undefined], ['n', new Uint8Array(3), 'float32'],
    ];
    for (const [key, value, type] of bad) assert.throws(() => v.set(key, value, type), /cookiesession: /, `${String(value)} as ${type}`);
    assert.deepEqual(v.getTyped('n'), { type: 'int8', value: 1 });
  });

  it('infers the Go type from the JS type', () => {
    const v = new Values().set('s', 'x').set('b', true).set('i', 5n).set('f', 0.5).set('y', new Uint8Array([1]))
      .set('t', new Date(0)).set('l', ['a']).set('m', new Map([['k', 'v']])).set('z', null).setJSON('j', { a: [1] });
    assert.deepEqual(v.entries().map(([k, t]) => `${k}:${t.type}`),
      ['b:bool', 'f:float64', 'i:int', 'j:json.RawMessage', 'l:[]string', 'm:map[string]string', 's:string', 't:time.Time', 'y:[]byte', 'z:nil']);
    assert.deepEqual(v.getJSON('j'), { a: [1] });
  });

  it('refuses a map[string]string given as an object whose pairs are not its own members, which would store an empty map', () => {
    const v = new Values();
    for (const value of [new Headers({ a: 'b' }), new URLSearchParams('a=1'), new Date(0), ['a', 'b']]) {
      assert.throws(() => v.set('m', value, 'map[string]string'), /a map\[string\]string value must be a Map or a plain object: for Headers, URLSearchParams or FormData, give new Map\(value\)/, String(value));
    }
    assert.equal(v.has('m'), false);
    assert.deepEqual(v.set('m', new Map(new URLSearchParams('a=1')), 'map[string]string').get('m'), new Map([['a', '1']]));
    assert.deepEqual(v.set('m', Object.assign(Object.create(null), { k: 'v' }), 'map[string]string').get('m'), new Map([['k', 'v']]));
  });

  it('refuses to parse JSON whose numbers JSON.parse would change, and says how to read them', () => {
    const v = new Values().set('user', '{"id":9007199254740993,"n":[1e400]}', 'json.RawMessage');
    assert.throws(() => v.getJSON('user'), {
      name: 'RangeError',
      message: 'cookiesession: the JSON under key "user" holds the number 9007199254740993, which JSON.parse would read as 9007199254740992: read its text with get(key), or have Go store the number as a string',
    });
    assert.throws(() => v.set('user', '[-1e400]').getJSON('user'), /holds the number -1e400, which JSON.parse would read as -Infinity/);
    assert.equal(v.getTyped('user').value, '[-1e400]', 'the text itself is kept');
    assert.deepEqual(v.set('user', '[9007199254740992, -9007199254740991, 0.1, 1e308, -0, 12345678901234567890e-5]').getJSON('user'), [2 ** 53, -(2 ** 53 - 1), 0.1, 1e308, -0, 123456789012345.67890]);
  });

  it('refuses to parse JSON whose bytes are not UTF-8, which it would read as U+FFFD, as Go\'s GetJSON refuses it', () => {
    const bytes = new TextEncoder().encode('{"name":"caf_"}');
    bytes[12] = 0xe9; // Latin-1 é
    const v = new Values().set('j', bytes, 'json.RawMessage');
    assert.throws(() => v.getJSON('j'), { name: 'RangeError', message: 'cookiesession: the JSON under key "j" holds bytes that are not UTF-8, which would be read as U+FFFD: read its bytes with get(key)' });
    assert.deepEqual(v.get('j'), bytes, 'get gives the bytes');
  });

  it('refuses to parse a non-zero number JSON.parse would read as 0, as Go\'s GetJSON refuses it for an any', () => {
    const v = new Values().set('j', '{"tiny":[1e-400]}', 'json.RawMessage');
    assert.throws(() => v.getJSON('j'), { name: 'RangeError', message: /holds the number 1e-400, which JSON.parse would read as 0: read its text with get\(key\)/ });
    assert.throws(() => v.set('j', '-2.5E-999').getJSON('j'), /holds the number -2.5E-999, which JSON.parse would read as -0:/);
    assert.ok(Object.is(v.set('j', '[0e-400, -0.000e5, 5e-324]').getJSON('j')[1], -0), 'zeros and the least double are read exactly');
  });

  it("refuses to store as JSON what JSON.stringify writes as another value: NaN, the infinities, -0, lone surrogates", () => {
    const v = new Values();
    const refused = [
      [{ score: NaN }, /setJSON: JSON.stringify writes NaN as null \(at "score"\), and Go's SetJSON refuses it: store the number alone with set\(key, value\)/],
      [[1, Infinity], /writes Infinity as null \(at "1"\)/],
      [{ n: new Number(-Infinity) }, /writes -Infinity as null \(at "n"\)/],
      [-0, /writes -0 as 0 \(at the top\): give 0, or store the number alone with set\(key, -0\)/],
      [{ a: [Math.round(-0.4)] }, /writes -0 as 0 \(at "0"\)/],
      [{ name: 'ab\ud800' }, /the string at "name" holds a lone surrogate, which JSON.stringify writes as a \\u escape and Go reads as U\+FFFD: give text.toWellFormed\(\)/],
      [[new String('\udc00')], /the string at "0" holds a lone surrogate/],
      [{ ['\udbff']: 1 }, /the member name "\\udbff" holds a lone surrogate/],
      [{ at: new Date(NaN) }, /JSON.stringify writes an invalid Date as null \(at "at"\): give null yourself/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    assert.equal(v.setJSON('j', { z: 0, c: '🍪\ufffd', at: new Date(0), big: 2 ** 53 + 2 }).get('j'), '{"z":0,"c":"🍪\ufffd","at":"1970-01-01T00:00:00.000Z","big":9007199254740994}');
  });

  it('refuses in setJSON an integer past 2^53 that JSON.stringify writes as another integer, which getJSON refuses and Go reads into an int64 as that other integer', () => {
    const v = new Values();
    const refused = [
      [{ id: 2 ** 60 }, /^cookiesession: setJSON: JSON.stringify writes the number 1152921504606846976 as 1152921504606847000, another integer \(at "id"\), which Go reads into an int64 as written and getJSON refuses: store an id as a string, or the number alone with set\(key, value\), a float64 that keeps it$/],
      [[-(2 ** 60)], /writes the number -1152921504606846976 as -1152921504606847000, another integer \(at "0"\)/],
      [new Number(2 ** 56 + 16), /writes the number 72057594037927952 as 72057594037927950, another integer \(at the top\)/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    // Written as their exact digits, or with an exponent, which no Go integer reads: kept.
    const kept = [2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e20, 2 ** 70, 1e21, 0.1];
    for (const n of kept) assert.equal(v.setJSON('j', [n]).getJSON('j')[0], n, String(n));
    // Such text from Go (an int64 id) is refused by getJSON, naming the integer JSON.parse would give.
    assert.throws(() => v.set('j', '[1152921504606847000]').getJSON('j'), {
      name: 'RangeError',
      message: 'cookiesession: the JSON under key "j" holds the number 1152921504606847000, which JSON.parse would read as 1152921504606846976: read its text with get(key), or have Go store the number as a string',
    });
  });

  it('refuses in setJSON what JSON.stringify throws for, leaves out or writes as null: a bigint, a function, a symbol, undefined or a hole in an array', () => {
    const v = new Values();
    const refused = [
      [{ id: 12n }, /^cookiesession: setJSON: JSON has no bigint, and JSON.stringify throws for 12n \(at "id"\): give String\(n\), which Go reads into a json.Number or an int64 field tagged ,string, or store the number alone with set\(key, n\)$/],
      [{ a: 1, onClick() {} }, /^cookiesession: setJSON: JSON.stringify leaves out a function \(at "onClick"\), and Go's SetJSON refuses a func: give the data alone$/],
      [[() => 1], /JSON.stringify writes a function as null \(at "0"\)/],
      [{ s: Symbol('x') }, /JSON.stringify leaves out a symbol \(at "s"\), and Go's SetJSON refuses a func: give the data alone/],
      [[1, undefined], /^cookiesession: setJSON: JSON.stringify writes undefined, or an array's hole, as null \(at "1"\): give null yourself, or leave the element out$/],
      // eslint-disable-next-line no-sparse-arrays
      [{ list: [1, , 3] }, /writes undefined, or an array's hole, as null \(at "1"\)/],
      [() => 1, /leaves out a function \(at the top\)/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    // A member that is undefined is left out, and reads back as undefined; a toJSON that gives text is its JSON.
    assert.equal(v.setJSON('j', { a: 1, b: undefined, id: Object.assign(Object(12n), { toJSON: () => '12' }) }).get('j'), '{"a":1,"id":"12"}');
    assert.deepEqual(v.getJSON('j'), { a: 1, id: '12' });
  });

  it('stores an integer without -0, and names uint64 for a bigint past an int', () => {
    const v = new Values().set('n', -0, 'int8').set('m', -0, 'uint32');
    assert.ok(Object.is(v.get('n'), 0) && Object.is(v.get('m'), 0));
    assert.throws(() => v.set('u', 2n ** 64n - 1n), { name: 'RangeError', message: "cookiesession: 18446744073709551615 is not a int: give the type, as set(key, value, 'uint64')" });
    assert.throws(() => v.set('u', 2n ** 64n), { name: 'RangeError', message: 'cookiesession: 18446744073709551616 is not a int' });
    assert.equal(v.set('u', 2n ** 64n - 1n, 'uint64').get('u'), 2n ** 64n - 1n);
  });

  it('refuses to store as JSON a Map, a Set or bytes, which JSON.stringify writes as {} or as numbered members', () => {
    const v = new Values();
    const refused = [
      [{ tags: new Map([['a', 'b']]) }, /setJSON: JSON.stringify writes a Map as \{\}, losing its contents \(at "tags"\): give Object.fromEntries\(map\), or \[\.\.\.set\]/],
      [[1, new Set([2])], /writes a Set as \{\}.*\(at "1"\)/],
      [new Map(), /writes a Map as \{\}.*\(at the top\)/],
      [{ avatar: new Uint8Array([1, 2]) }, /writes a Uint8Array as an object Go cannot read as a \[\]byte \(at "avatar"\): give its base64 text, as Go's encoding\/json writes a \[\]byte/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    assert.equal(v.setJSON('j', { at: new Date(0), n: [1] }).getTyped('j').value, '{"at":"1970-01-01T00:00:00.000Z","n":[1]}');
  });

  it("refuses in setJSON a Node Buffer, whose toJSON gives {type, data}, and a Map or a Set of another realm (vm, iframe); set takes such a Map or Date", () => {
    const v = new Values();
    const refused = [
      [{ avatar: Buffer.from([1, 2]) }, /writes a Uint8Array as an object Go cannot read as a \[\]byte \(at "avatar"\)/],
      [Buffer.from([1]), /writes a Uint8Array .*\(at the top\)/],
      [{ tags: runInNewContext('new Map([["a", "b"]])') }, /writes a Map as \{\}, losing its contents \(at "tags"\)/],
      [[runInNewContext('new Set([1])')], /writes a Set as \{\}/],
      [{ raw: runInNewContext('new ArrayBuffer(2)') }, /writes an ArrayBuffer as an object Go cannot read/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    // Bytes whose own toJSON gives base64 text, as Go writes a []byte, are kept.
    const bytes = Object.assign(new Uint8Array([1, 2, 3]), { toJSON: () => 'AQID' });
    assert.equal(v.setJSON('j', { b: bytes }).getTyped('j').value, '{"b":"AQID"}');
    // A Map of another realm is a Map for map[string]string too.
    assert.deepEqual(v.set('m', runInNewContext('new Map([["a", "b"]])')).getTyped('m'), { type: 'map[string]string', value: new Map([['a', 'b']]) });
    assert.deepEqual(v.set('m', runInNewContext('new Map([["c", "d"]])'), 'map[string]string').get('m'), new Map([['c', 'd']]));
    // And a Date of another realm is a Date for time.Time, as for GoTime.fromDate.
    assert.deepEqual(v.set('t', runInNewContext('new Date(1000)')).getTyped('t'), { type: 'time.Time', value: new GoTime(1n) });
    assert.deepEqual(v.set('t', runInNewContext('new Date(2000)'), 'time.Time').get('t'), new GoTime(2n));
  });

  it('refuses in setJSON an object of a class that JSON.stringify writes as {} (an Error, a URLSearchParams, #private fields), as Go refuses a struct of unexported fields', () => {
    const v = new Values();
    class Cart {
      #items = ['book'];
      get items() { return this.#items; }
    }
    const refused = [
      [{ cart: new Cart() }, /setJSON: JSON.stringify writes an object of class Cart as \{\}, since it has no own enumerable property, losing what it holds \(private fields, getters, internal state\) \(at "cart"\): give a plain object of what to keep, or the class a toJSON method/],
      [new Error('failed'), /writes an object of class Error as \{\}.*\(at the top\)/],
      [[new URLSearchParams('next=/cart')], /writes an object of class URLSearchParams as \{\}.*\(at "0"\)/],
      [{ e: runInNewContext('new RangeError("x")') }, /writes an object of class RangeError as \{\}/],
      [new (class Counter { #n = 2; inc() { this.#n++; } })(), /writes an object of class Counter as \{\}/],
      [new (class NotFound extends Error {})('gone'), /writes an object of class NotFound as \{\}/],
    ];
    for (const [value, message] of refused) assert.throws(() => v.setJSON('j', value), (e) => e instanceof TypeError && message.test(e.message), String(message));
    assert.equal(v.has('j'), false);
    const kept = [
      [{}, '{}'],
      [Object.create(null), '{}'],
      [runInNewContext('({})'), '{}'],
      [{ n: new Number(5), s: new String('a'), b: new Boolean(false) }, '{"n":5,"s":"a","b":false}'],
      [new (class Point { constructor() { this.x = 1; } })(), '{"x":1}'],
      [{ cart: Object.assign(new Cart(), { toJSON() { return { items: this.items }; } }) }, '{"cart":{"items":["book"]}}'],
      // A class that defines nothing but its constructor holds no more than its
      // own properties: a DTO (TypeScript before ES2022 leaves unset fields out).
      [{ filters: new (class Filters { constructor(q) { if (q.color) this.color = q.color; } })({}) }, '{"filters":{}}'],
    ];
    for (const [value, want] of kept) assert.equal(v.setJSON('j', value).get('j'), want);
  });

  it('hands out copies', () => {
    const v = new Values().set('y', new Uint8Array([1, 2]));
    v.get('y')[0] = 9;
    assert.deepEqual(v.get('y'), new Uint8Array([1, 2]));
  });

  it("copies a Node Buffer's bytes, whose slice is a view of a shared pool, and reads a float from them", () => {
    Buffer.from('moves the next Buffer off the start of the pool');
    const given = Buffer.from('hello');
    const v = new Values().set('y', given).set('s', Buffer.from('ff61', 'hex'), 'string');
    given[0] = 0x4a;
    v.get('y')[1] = 0x41;
    assert.deepEqual(v.get('y'), new TextEncoder().encode('hello'), 'neither the caller nor a copy handed out changes it');
    assert.deepEqual(v.getTyped('s'), { type: 'string', value: Uint8Array.of(0xff, 0x61) });
    assert.equal(new Values().set('f', Buffer.from('3f800000', 'hex'), 'float32').get('f'), 1);
    assert.equal(new Values().set('f', Buffer.from('3ff0000000000000', 'hex'), 'float64').get('f'), 1);
    const decoded = Values.decode(Buffer.from('02016402016801660f3ff0000000000000', 'hex'));
    assert.equal(decoded.get('f'), 1);
    assert.deepEqual(decoded.get('d'), Uint8Array.of(0x68));
  });

  it('refuses a hole in a []string when it is set, not when it is sealed', () => {
    assert.throws(() => new Values().set('l', [, 'a']), /a \[\]string element must be a string or a Uint8Array/);
  });

  it('says when a GoTime has no Date, or a Date no instant, instead of an Invalid Date', () => {
    assert.equal(new GoTime(8_640_000_000_000n).toDate().getTime(), 8.64e15, 'the last Date');
    assert.throws(() => new GoTime(2n ** 62n).toDate(), /cookiesession: 146138514283-06-19T07:45:04Z is beyond the range of a Date/);
    assert.throws(() => new GoTime(-8_640_000_000_001n).toDate(), /beyond the range of a Date/);
    assert.throws(() => GoTime.fromDate(new Date(NaN)), /cookiesession: an invalid Date has no instant/);
    assert.throws(() => new Values().set('t', new Date('soon')), /an invalid Date has no instant/);
    assert.throws(() => GoTime.fromDate(Date.now()), /GoTime.fromDate takes a Date, not a number/);
  });

  it('refuses unix seconds that are not a bigint or a whole number, such as a Date, which BigInt() reads as milliseconds', () => {
    assert.throws(() => new GoTime(new Date(0)), { name: 'TypeError', message: 'cookiesession: GoTime takes whole Unix seconds as a bigint or a number, not a Date: for a Date, use GoTime.fromDate(date)' });
    for (const unix of ['100', true, 1.5, NaN, 2 ** 53]) {
      assert.throws(() => new GoTime(unix), /GoTime takes whole Unix seconds as a bigint or a number/, String(unix));
    }
    assert.throws(() => new GoTime(0, 5n), /nanoseconds 5 must be a whole number from 0 to 999999999/);
    assert.equal(new GoTime(-5, 1).unix, -5n);
  });

  it('refuses a number of seconds past the years 0 to 9999, most often milliseconds (Date.now()), and takes any bigint', () => {
    const ms = now.getTime();
    assert.throws(() => new GoTime(ms), {
      name: 'RangeError',
      message: `cookiesession: GoTime takes Unix seconds, and ${ms} s is past the years 0 to 9999: for milliseconds (Date.now(), date.getTime()), use GoTime.fromDate(new Date(ms)); for such a time, give a bigint`,
    });
    assert.throws(() => new GoTime(-ms), /GoTime takes Unix seconds, and -1767225600000 s is past the years 0 to 9999/);
    assert.equal(String(new GoTime(253402300799)), '9999-12-31T23:59:59Z');
    assert.equal(new GoTime(-62167219200).unix, -62167219200n, 'the year 0');
    assert.throws(() => new GoTime(253402300800), /past the years 0 to 9999/);
    assert.throws(() => new GoTime(-62167219201), /past the years 0 to 9999/);
    assert.equal(new GoTime(BigInt(ms)).unix, BigInt(ms), 'a bigint is any int64, as Go writes it');
    assert.throws(() => new Values().set('t', new GoTime(ms)), /past the years 0 to 9999/);
  });

  it('GoTime keeps the instant and offset', () => {
    const t = GoTime.fromDate(new Date(-500), 19800);
    assert.equal(t.unix, -1n);
    assert.equal(t.nsec, 500000000);
    assert.equal(t.toString(), '1970-01-01T05:29:59.5+05:30');
    assert.equal(t.toDate().getTime(), -500);
    assert.throws(() => new GoTime(0, 1e9));
    assert.throws(() => new GoTime(0, 0, 86400));
  });
});

describe('Codec', () => {
  it('draws a fresh nonce and id for every seal', () => {
    const codec = new Codec(ring, { name: 'session' });
    const a = codec.seal({ values: new Values() }, now);
    const b = codec.seal({ values: new Values() }, now);
    assert.notEqual(a.slice(7, 39), b.slice(7, 39));
    assert.notDeepEqual(codec.open(a, now).id, codec.open(b, now).id);
  });

  it('MIN_TOKEN_LEN is the length of the shortest token: an empty session\'s', () => {
    const token = new Codec(ring, { name: 'session' }).seal({}, now);
    assert.equal(token.length, MIN_TOKEN_LEN);
    assert.ok(new Codec(ring, { name: 'session', maxTokenLen: MIN_TOKEN_LEN }).open(token, now).values.size === 0);
    assert.throws(() => new Codec(ring, { name: 'session', maxTokenLen: MIN_TOKEN_LEN - 1 }), RangeError);
    assert.throws(() => new Codec(ring, { name: 'session' }).open(token.slice(0, -1), now), (e) => e.kind === 'invalid');
  });

  it('refuses to seal what is too large or already expired', () => {
    const codec = new Codec(ring, { name: 'session', maxTokenLen: 200 });
    assert.throws(() => codec.seal({ values: new Values().set('x', 'y'.repeat(200)) }, now), (e) => e instanceof SessionError && e.kind === 'too_large');
    assert.throws(() => codec.seal({ expires: 1767225600n }, now), (e) => e.kind === 'expired');
    assert.throws(() => codec.seal({ created: -1n }, now), /before 1970/);
  });

  it('refuses to seal a record past created + maxAge, which open would refuse, as Go does', () => {
    const codec = new Codec(ring, { name: 'session', maxAge: 3600, maxLifetime: 86400 });
    const nowSec = BigInt(Math.floor(now.getTime() / 1000));
    const stale = { created: nowSec - 7200n, expires: nowSec + 3600n, values: new Values() };
    assert.throws(() => codec.seal(stale, now), (e) => e.kind === 'expired' && e.reason.endsWith('(MaxAge 1h0m0s since creation)') && e.expiredAt === nowSec - 3600n);
    // Its own, longer lifetime still runs, and so does a session younger than maxAge.
    const token = codec.seal({ created: nowSec - 7200n, expires: nowSec + 3600n, lifetime: { maxAge: 3 * 3600 }, values: new Values() }, now);
    assert.equal(codec.open(token, now).expires, nowSec + 3600n);
    // An opened record (keyId set) whose expires runs past created + maxAge
    // is sealed as open read it; a new one is refused (below).
    codec.open(codec.seal({ created: nowSec - 60n, expires: nowSec + 30n * 86400n, keyId: 7, values: new Values() }, now), now);
  });

  // A new record whose lifetime is longer than maxLifetime, or whose
  // expires is after created plus the maxAge that applies, asked for a
  // token open ends sooner (a 30-day link dead after a day), and was sealed
  // without a word. seal says so, naming the option; the same record opened
  // (keyId set) is sealed as open read it, cut, as Go's Codec.SealAt does.
  it('refuses a new record that asks for more than open would give, as Go\'s Codec.SealAt', () => {
    const day = 86400n;
    const nowSec = BigInt(Math.floor(now.getTime() / 1000));
    const codec = new Codec(ring, { name: 'session', maxAge: 86400, maxLifetime: 7 * 86400 });
    const rows = [
      ['lifetime.maxAge over maxLifetime', { lifetime: { maxAge: 30 * 86400 } },
        "cookiesession: record.lifetime.maxAge 2592000 s is longer than the codec's maxLifetime 604800 s, which would end the session first; raise the maxLifetime option (by default maxAge) to at least 2592000"],
      ['lifetime.idleTimeout over maxLifetime', { lifetime: { maxAge: 7 * 86400, idleTimeout: 8 * 86400 } }, /record\.lifetime\.idleTimeout 691200 s .* at least 691200$/],
      ['expires past maxAge', { expires: nowSec + 30n * day },
        "cookiesession: record.expires 2026-01-31T00:00:00Z is after created plus the session's maxAge of 86400 s (2026-01-02T00:00:00Z), when open ends the token; set record.lifetime.maxAge (or the maxAge option) to at least 2592000 and the maxLifetime option (now 604800) with it, or leave expires undefined for that end"],
      ['expires past maxAge, within maxLifetime', { expires: nowSec + 3n * day }, /set record\.lifetime\.maxAge \(or the maxAge option\) to at least 259200, or leave expires undefined/],
      ["expires past the lifetime's maxAge", { created: nowSec - day, expires: nowSec + 3n * day, lifetime: { maxAge: 2 * 86400 } },
        /maxAge of 172800 s \(2026-01-02T00:00:00Z\), when open ends the token; raise record\.lifetime\.maxAge to at least 345600, or/],
      ['lifetime at maxLifetime', { lifetime: { maxAge: 7 * 86400 } }, null],
      ['expires at created + maxAge', { created: nowSec - 3600n, expires: nowSec + day - 3600n }, null],
      ['expires within the lifetime', { expires: nowSec + 5n * day, lifetime: { maxAge: 7 * 86400 } }, null],
      ['opened: lifetime cut', { lifetime: { maxAge: 30 * 86400 }, keyId: 7 }, null],
      ['opened: expires cut', { expires: nowSec + 30n * day, keyId: 7 }, null],
    ];
    for (const [what, record, refusal] of rows) {
      if (refusal === null) {
        codec.open(codec.seal(record, now), now);
        continue;
      }
      const message = typeof refusal === 'string' ? refusal : undefined;
      assert.throws(() => codec.seal(record, now), (e) => e instanceof RangeError && (message ? e.message === message : refusal.test(e.message)), what);
      assert.equal(record.keyId, undefined, `${what}: the record is left new`);
    }
    // SessionCookies wrote such a deadline into Max-Age, for a cookie Go ends a day in.
    const cookies = new SessionCookies(ring, { name: 's' });
    assert.throws(() => cookies.seal({ expires: nowSec + 30n * day, values: new Values().set('a', 1) }, now), /record\.expires .* when open ends the token/);
  });

  // As Go's NewCodec (and New): a maxLifetime below maxAge made tokens open
  // ended at the ceiling, and an idleTimeout at or past the ceiling never
  // acted, with no word from the constructor.
  it("refuses limits that would cut every token, or never act, as Go's NewCodec", () => {
    const rows = [
      [{ maxAge: 7 * 86400, maxLifetime: 86400 }, 'cookiesession: maxLifetime 86400 is below maxAge 604800; it bounds the lifetimes sessions may ask for, so set it at least as long, or leave it unset for maxAge'],
      [{ idleTimeout: 86400 }, 'cookiesession: idleTimeout 86400 is not shorter than maxAge 86400, which would end every session first however active it is; raise maxAge above it, or leave idleTimeout 0'],
      [{ maxAge: 3600, idleTimeout: 7200 }, /idleTimeout 7200 is not shorter than maxAge 3600/],
      [{ maxAge: 3600, maxLifetime: 86400, idleTimeout: 86400 }, /idleTimeout 86400 is not shorter than maxLifetime 86400, .*; raise maxLifetime above it/],
      [{ maxAge: 3600, maxLifetime: 86400, idleTimeout: 7200 }, null],
      [{ maxAge: 86400, maxLifetime: 86400, idleTimeout: 3600 }, null],
    ];
    for (const [options, refusal] of rows) {
      const build = () => new Codec(ring, { name: 's', ...options });
      if (refusal === null) build();
      else assert.throws(build, (e) => e instanceof RangeError && (typeof refusal === 'string' ? e.message === refusal : refusal.test(e.message)), JSON.stringify(options));
    }
  });

  it('refuses to seal times that open would refuse at the same now, and seals the edges', () => {
    const codec = new Codec(ring, { name: 'session' });
    const nowSec = 1767225600n;
    const max = 2n ** 62n;
    const refused = [
      [{ expires: max + 1n }, /^cookiesession: times above 2\^62 cannot be sealed: Created 1767225600, Expires 4611686018427387905 \(Unix seconds\)$/],
      [{ created: max + 1n, expires: max }, /times above 2\^62/],
      [{ created: nowSec + 61n }, /created in the future at 2026-01-01T00:01:01Z, more than 60 s after now/],
      [{ created: nowSec + 3600n, expires: nowSec + 7200n }, /created in the future/],
    ];
    for (const [record, message] of refused) {
      assert.throws(() => codec.seal(record, now), (e) => e instanceof RangeError && message.test(e.message), String(message));
    }
    for (const record of [{ expires: max, keyId: 7 }, { created: nowSec + 60n }]) {
      const token = codec.seal(record, new Date(now.getTime() + 999));
      assert.equal(codec.open(token, now).created, record.created);
    }
  });

  it('sets expires from maxAge and the idle timeout', () => {
    const codec = new Codec(ring, { name: 'session', maxAge: 3600, idleTimeout: 600 });
    const record = { created: 1767225600n - 3500n };
    codec.seal(record, now);
    assert.equal(record.expires, 1767225600n + 100n);
    const fresh = {};
    codec.seal(fresh, now);
    assert.equal(fresh.expires, 1767225600n + 600n);
  });
});

describe('lifetimes of their own', () => {
  it('a lifetime set on an opened record gets its own deadline, as Go\'s SetLifetime: remember me is not cut to the old one', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxAge: 7200, idleTimeout: 1800, maxLifetime: 30 * 86400 });
    const [line] = cookies.seal({ values: new Values().set('u', 'ann') }, now);
    const record = cookies.open(line, now);
    record.lifetime = { maxAge: 30 * 86400, idleTimeout: 30 * 86400 }; // record.expires left as opened
    const [remembered] = cookies.seal(record, now);
    assert.match(remembered, /; Max-Age=2592000;/);
    assert.equal(record.expires, BigInt(now.getTime() / 1000) + 2592000n);
    // One opened from the cookie and sealed again keeps its deadline.
    const again = cookies.open(remembered, new Date(now.getTime() + 1000));
    assert.match(cookies.seal(again, new Date(now.getTime() + 1000))[0], /; Max-Age=2591999;/);
  });

  it("a lifetime dropped from an opened record gives the options' deadline, as Go's SetLifetime(Lifetime{}): forget me does not keep remember me's", () => {
    const cookies = new SessionCookies(ring, { name: 's', maxAge: 7200, idleTimeout: 1800, maxLifetime: 30 * 86400 });
    const [remembered] = cookies.seal({ values: new Values().set('u', 'ann'), lifetime: { maxAge: 30 * 86400, idleTimeout: 7 * 86400 } }, now);
    assert.match(remembered, /; Max-Age=604800;/);
    for (const drop of [(r) => { r.lifetime = null; }, (r) => { r.lifetime = undefined; }, (r) => { delete r.lifetime; }]) {
      const record = cookies.open(remembered, now);
      drop(record);
      assert.match(cookies.seal(record, now)[0], /; Max-Age=1800;/, String(drop));
      assert.equal(record.expires, BigInt(now.getTime() / 1000) + 1800n);
      // Sealed again as it is (a re-key), it keeps the deadline it now has.
      assert.match(cookies.seal(record, new Date(now.getTime() + 10_000))[0], /; Max-Age=1790;/);
    }
    const opened = cookies.open(remembered, now);
    assert.match(cookies.seal({ ...opened, lifetime: null }, now)[0], /; Max-Age=1800;/, 'a copy without the lifetime');
    const nowSec = BigInt(now.getTime() / 1000);
    assert.match(cookies.seal({ ...opened, lifetime: null, expires: nowSec + 300n }, now)[0], /; Max-Age=300;/, 'a deadline the caller set is kept');
    // A record without a lifetime keeps the deadline it was opened with.
    const plain = cookies.open(cookies.seal({ values: new Values().set('u', 'ann') }, now)[0], now);
    assert.match(cookies.seal(plain, new Date(now.getTime() + 10_000))[0], /; Max-Age=1790;/);
  });

  it('keeps a deadline the caller set beside a lifetime; only the one open or seal gave is replaced', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxAge: 7200, maxLifetime: 30 * 86400 });
    const nowSec = BigInt(now.getTime() / 1000);
    const trial = { values: new Values().set('u', 'ann'), lifetime: { maxAge: 30 * 86400 }, expires: nowSec + 600n };
    assert.match(cookies.seal(trial, now)[0], /; Max-Age=600;/, 'a new record');
    const record = cookies.open(cookies.seal({ values: new Values().set('u', 'ann') }, now)[0], now);
    record.lifetime = { maxAge: 30 * 86400 };
    record.expires = nowSec + 900n;
    assert.match(cookies.seal(record, now)[0], /; Max-Age=900;/, 'an opened record');
    record.lifetime = { maxAge: 7 * 86400 }; // expires is now the one seal gave
    assert.match(cookies.seal(record, now)[0], /; Max-Age=604800;/, 'sealed, then a new lifetime');
    // A copy ({ ...record }) holds the deadline open gave, which is not one the caller set.
    const opened = cookies.open(cookies.seal({ values: new Values().set('u', 'ann') }, now)[0], now);
    assert.match(cookies.seal({ ...opened, lifetime: { maxAge: 30 * 86400 } }, now)[0], /; Max-Age=2592000;/, 'a copy of an opened record');
    opened.lifetime = { maxAge: 7 * 86400 };
    assert.match(cookies.seal(opened, now)[0], /; Max-Age=604800;/, 'the record, after its copy was sealed');
    assert.match(cookies.seal({ ...opened, lifetime: { maxAge: 86400 }, expires: nowSec + 300n }, now)[0], /; Max-Age=300;/, 'a copy with a deadline of its own');
    // README: a deadline copied by structuredClone is kept, as one the
    // caller set; delete expires there. structuredClone makes a plain
    // object of the Values, which seal refuses by name.
    const source = cookies.open(cookies.seal({ values: new Values().set('u', 'ann') }, now)[0], now);
    const cloned = structuredClone(source);
    cloned.lifetime = { maxAge: 30 * 86400 };
    assert.throws(() => cookies.seal(cloned, now), { name: 'TypeError', message: /^cookiesession: record\.values must be a Values/ });
    cloned.values = source.values;
    assert.match(cookies.seal(cloned, now)[0], /; Max-Age=7200;/, 'a structuredClone copy keeps the deadline open gave');
    delete cloned.expires;
    assert.match(cookies.seal(cloned, now)[0], /; Max-Age=2592000;/, 'a structuredClone copy without expires');
  });

  it('knows the deadline of a copy after its record or another copy was sealed, and keeps one the caller set on the record', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxAge: 7200, idleTimeout: 1800, maxLifetime: 30 * 86400 });
    const later = new Date(now.getTime() + 1000 * 1000); // past half of the idle window
    const remember = { maxAge: 30 * 86400, idleTimeout: 7 * 86400 };
    const fresh = () => cookies.open(cookies.seal({ values: new Values().set('u', 'ann') }, now)[0], now);
    let record = fresh();
    const copy = { ...record };
    assert.equal(cookies.refresh(record, later).length, 1, 'the record refreshed');
    assert.match(cookies.seal({ ...copy, lifetime: remember }, later)[0], /; Max-Age=604800;/, 'a copy made before its record was refreshed');
    record = fresh();
    cookies.seal({ ...record, lifetime: { maxAge: 86400, idleTimeout: 3600 } }, now);
    assert.match(cookies.seal({ ...record, lifetime: remember }, now)[0], /; Max-Age=604800;/, 'a second copy');
    record = fresh();
    record.expires = BigInt(now.getTime() / 1000) + 600n;
    cookies.seal({ ...record }, now);
    record.lifetime = remember;
    assert.match(cookies.seal(record, now)[0], /; Max-Age=600;/, 'the record whose deadline the caller set, after a copy of it was sealed');
  });

  const version = (token) => Buffer.from(token, 'base64url')[0];
  const nowSec = 1767225600n;

  it('seals version 2 only for a lifetime that is not all zero', () => {
    const codec = new Codec(ring, { name: 'session', maxLifetime: 7776000 });
    for (const lifetime of [undefined, null, {}, { maxAge: 0, idleTimeout: 0, browserSession: false }]) {
      const record = { lifetime };
      assert.equal(version(codec.seal(record, now)), 1, JSON.stringify(lifetime));
      assert.equal(record.lifetime, null);
      assert.equal(codec.open(codec.seal({ lifetime }, now), now).lifetime, null);
    }
    const record = { lifetime: { browserSession: true } };
    const token = codec.seal(record, now);
    assert.equal(version(token), 2);
    assert.deepEqual(record.lifetime, { maxAge: 0, idleTimeout: 0, browserSession: true });
    assert.deepEqual(codec.open(token, now).lifetime, record.lifetime);
  });

  it('computes the deadline from its own durations, under maxLifetime', () => {
    const codec = new Codec(ring, { name: 'session', maxAge: 3600, idleTimeout: 600, maxLifetime: 86400 });
    const expires = (lifetime, created = nowSec) => {
      const record = { created, lifetime };
      codec.seal(record, now);
      return record.expires - nowSec;
    };
    assert.equal(expires(null), 600n, 'the defaults');
    assert.equal(expires({ idleTimeout: 7200 }), 3600n, 'its own idle, the default MaxAge');
    assert.equal(expires({ maxAge: 7200, idleTimeout: 7200 }), 7200n);
    // A new record's lifetime over maxLifetime is refused (below); an opened
    // one's (keyId set) is cut to it, as Go cuts it.
    const opened = { created: nowSec, keyId: 7, lifetime: { maxAge: 10 ** 6, idleTimeout: 10 ** 6 } };
    codec.seal(opened, now);
    assert.equal(opened.expires - nowSec, 86400n, 'bounded by maxLifetime');
    assert.equal(expires({ maxAge: 60 }, nowSec - 30n), 30n, 'since creation');
    assert.throws(() => codec.seal({ created: nowSec - 60n, lifetime: { maxAge: 60 } }, now), (e) => e.kind === 'expired');
  });

  it('names the age limit, not the record\'s expires, when seal filled expires in', () => {
    const codec = new Codec(ring, { name: 'session', maxAge: 3600 });
    const nowSec = BigInt(Math.floor(now.getTime() / 1000));
    assert.throws(() => codec.seal({ created: nowSec - 7200n }, now), (e) => e.kind === 'expired' && /\(MaxAge 1h0m0s since creation\)$/.test(e.reason));
    assert.throws(() => codec.seal({ created: nowSec - 600n, expires: nowSec - 60n }, now), (e) => e.kind === 'expired' && /\(the record's Expires\)$/.test(e.reason));
  });

  it('refuses a lifetime the wire cannot carry, before sealing', () => {
    const codec = new Codec(ring, { name: 'session' });
    for (const lifetime of [{ maxAge: -1 }, { maxAge: 1.5 }, { idleTimeout: 2 ** 32 }, { maxAge: '60' }, { browserSession: 1 }, 5]) {
      assert.throws(() => codec.seal({ lifetime }, now), /cookiesession: /, JSON.stringify(lifetime));
    }
    assert.doesNotThrow(() => new Codec(ring, { name: 'session', maxLifetime: 2 ** 32 - 1 }).seal({ lifetime: { maxAge: 2 ** 32 - 1 } }, now));
    assert.throws(() => new Codec(ring, { name: 'session', maxLifetime: 0 }), /maxLifetime/);
    assert.throws(() => new Codec(ring, { name: 'session', maxLifetime: 2 ** 32 }), /maxLifetime/);
    // The default ceiling is maxAge, and the error names maxAge, which was
    // set: two years in milliseconds, an express-session habit.
    assert.throws(() => new Codec(ring, { name: 'session', maxAge: 2 ** 32 }), /maxAge must be a whole number of seconds from 1 to 4294967295/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxAge: 2 * 365 * 86400 * 1000 }), /maxAge must be a whole number of seconds/);
  });

  it('writes Max-Age by the lifetime, whatever the browserSession option', () => {
    const cookies = new SessionCookies(ring, { name: 's', browserSession: true, maxLifetime: 7776000 });
    assert.doesNotMatch(cookies.seal({}, now)[0], /Max-Age/);
    assert.match(cookies.seal({ lifetime: { maxAge: 2592000 } }, now)[0], /; Max-Age=2592000;/);
    // README: under the browserSession option, a zero lifetime makes the
    // cookie persistent with the maxAge option, as Go's SetLifetime(Lifetime{}).
    assert.match(cookies.seal({ lifetime: {} }, now)[0], /; Max-Age=86400;/);
    const persistent = new SessionCookies(ring, { name: 's' });
    assert.match(persistent.seal({}, now)[0], /; Max-Age=86400;/);
    assert.doesNotMatch(persistent.seal({ lifetime: { browserSession: true } }, now)[0], /Max-Age/);
  });
});

describe('SessionCookies', () => {
  it('refreshes a session read without a change as Go would, and refuses a refreshThreshold Go refuses', () => {
    const cookies = new SessionCookies(ring, { name: 's', idleTimeout: 1800, maxAge: 7200 });
    const [line] = cookies.seal({ values: new Values().set('u', 'ann') }, now);
    const at = (s) => new Date(now.getTime() + s * 1000);
    assert.deepEqual(cookies.refresh(cookies.open(line, at(600)), at(600)), [], 'two thirds of the window left');
    const record = cookies.open(line, at(1000));
    const [refreshed] = cookies.refresh(record, at(1000));
    assert.match(refreshed, /^s=[^;]+; Max-Age=1800;/);
    assert.equal(cookies.open(refreshed, at(2700)).values.get('u'), 'ann', 'past the first deadline');
    for (const bad of [0, 1.5, '0.5', NaN]) {
      assert.throws(() => new SessionCookies(ring, { refreshThreshold: bad }), /refreshThreshold .* is not in \(0, 1\], as Go's Options.RefreshThreshold/, String(bad));
    }
    assert.throws(() => cookies.refresh(record, at(1000), 'x'), /sent is the number of chunks/);
    // Past the deadline by refresh's now, Go's Manager refuses the cookie and expires it.
    const late = cookies.open(line, at(1799.5));
    assert.deepEqual(cookies.refresh(late, at(1800.5)), cookies.clear(), 'not revived');
    assert.throws(() => cookies.refresh({ values: new Values().set('u', 'ann') }, now), { name: 'TypeError', message: /^cookiesession: refresh takes a record open returned/ });
  });

  it('refuses to refresh a record changed since open, whose change it would send only when a refresh is due', () => {
    const cookies = new SessionCookies(ring, { name: 's', idleTimeout: 1800, maxAge: 7200, maxLifetime: 86400 });
    const [line] = cookies.seal({ values: new Values().set('u', 'ann') }, now);
    const at = (s) => new Date(now.getTime() + s * 1000);
    const changes = [
      ['a value set', (r) => r.values.set('theme', 'dark')], ['a value deleted', (r) => r.values.delete('u')],
      ['the values replaced', (r) => { r.values = new Values().set('u', 'ann'); }], ['a new id', (r) => { r.id = undefined; }],
      ['created', (r) => { r.created -= 1n; }], ['a lifetime set', (r) => { r.lifetime = { maxAge: 86400, idleTimeout: 1800 }; }],
    ];
    for (const [what, change] of changes) {
      const record = cookies.open(line, at(600));
      change(record);
      assert.throws(() => cookies.refresh(record, at(600)), {
        name: 'TypeError',
        message: 'cookiesession: refresh writes a session unchanged since open, and this record changed (its values, id, created or lifetime): write it with seal(record, now, sent), after record.expires = undefined',
      }, what);
    }
    // Unchanged: the same value set again, a record sealed since, a copy.
    const record = cookies.open(line, at(600));
    record.values.set('u', 'ann');
    assert.deepEqual(cookies.refresh(record, at(600)), []);
    record.values.set('theme', 'dark');
    record.expires = undefined;
    const [sealed] = cookies.seal(record, at(600));
    assert.deepEqual(cookies.refresh(record, at(700)), []);
    assert.deepEqual(cookies.refresh({ ...cookies.open(sealed, at(700)) }, at(700)), []);
  });

  it("writes Go's attributes and checks prefixed names", () => {
    const [line] = new SessionCookies(ring, { name: '__Host-s' }).seal({}, now);
    assert.match(line, /^__Host-s=[A-Za-z0-9_-]{104,}; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.throws(() => new SessionCookies(ring, { name: '__Host-s', domain: 'example.com' }), /__Host-/);
    // express-session's cookie module takes app:sid; net/http, and so Go's New, does not.
    for (const name of ['app:sid', 'sess[id]', 'sid@app', 'my session']) {
      assert.throws(() => new SessionCookies(ring, { name }), new RegExp(`name "${name.replace(/[[\]]/g, '\\$&')}" is not a cookie name net/http writes: use letters, digits and`));
    }
    new SessionCookies(ring, { name: 'connect.sid' });
    // Browsers match the prefixes in any case, and drop such a cookie that breaks their rules.
    assert.throws(() => new SessionCookies(ring, { name: '__host-s', domain: 'example.com' }), /__Host-/);
    assert.throws(() => new SessionCookies(ring, { name: '__HOST-s', path: '/app' }), /__Host-/);
    assert.throws(() => new SessionCookies(ring, { name: '__secure-s', secure: false }), /__Secure-/);
    assert.throws(() => new SessionCookies(ring, { name: '__Http-s', httpOnly: false }), /__Http-/);
    assert.throws(() => new SessionCookies(ring, { name: 's', path: `/${'a'.repeat(1024)}` }), /longer than 1024 bytes/);
    new SessionCookies(ring, { name: 's', path: `/${'a'.repeat(1023)}` });
    assert.throws(() => new SessionCookies(ring, { name: '__http-s', secure: false }), /__Http-/);
    assert.throws(() => new SessionCookies(ring, { name: '__Host-Http-s', httpOnly: false }), /__Host-Http-/);
    new SessionCookies(ring, { name: '__Http-s', domain: 'example.com', path: '/app' });
    assert.throws(() => new SessionCookies(ring, { domain: 'example.com.' }), /ends in a dot/);
    new SessionCookies(ring, { name: '__hostile', secure: false }); // no prefix: a name like any other
    assert.throws(() => new SessionCookies(ring, { name: 's', secure: false, sameSite: 'none' }), /need secure/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxCookieSize: 100 }), /cannot hold an empty session/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxCookieSize: 4097 }), /over 4096, the most browsers keep/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxLifetime: 3600 }), /maxLifetime 3600 is below maxAge 86400/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxAge: 7200, maxLifetime: 3600 }), /below maxAge 7200/);
    new SessionCookies(ring, { name: 's', maxAge: 3600, maxLifetime: 3600 }); // equal is the default
    assert.throws(() => new SessionCookies(ring, { name: 's', idleTimeout: 172800 }), /idleTimeout 172800 is not shorter than maxAge 86400/);
    // express-session's rolling cookie.maxAge of a day, maxAge left at its default: no session would ever idle out.
    assert.throws(() => new SessionCookies(ring, { name: 's', idleTimeout: 86400 }), /idleTimeout 86400 is not shorter than maxAge 86400, .*; raise maxAge above it/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxAge: 3600, idleTimeout: 7200, maxLifetime: 3600 }), /not shorter than maxLifetime 3600/);
    assert.throws(() => new SessionCookies(ring, { name: 's', maxAge: 3600, idleTimeout: 86400, maxLifetime: 86400 }), /not shorter than maxLifetime 86400/);
    new SessionCookies(ring, { name: 's', maxAge: 3600, idleTimeout: 43200, maxLifetime: 86400 }); // remember-me sessions use it
  });
});

// What a user writes that cannot be honoured is refused at once, with the
// fix: a typo in an option, a flag given as text, a lifetime that the
// options would cut, a value whose Go type would silently change.
describe('nothing the caller asked for is dropped without a word', () => {
  it('refuses to write a Values as JSON, which would be {} and lose every value', () => {
    const v = new Values().set('user', 'bob');
    assert.throws(() => JSON.stringify(v), /a Values has no JSON form/);
    assert.throws(() => JSON.stringify({ values: v }), /Codec\.seal/);
    assert.throws(() => new Values().setJSON('inner', v), /no JSON form/);
  });

  it('keeps the Go type of a number or JSON value replaced without a type, and says when it cannot', () => {
    const v = new Values().set('visits', 7, 'int32').set('uid', 5n, 'uint64').set('ttl', 10n, 'time.Duration').setJSON('prefs', { a: 1 });
    v.set('visits', v.get('visits') + 1).set('uid', 6).set('prefs', JSON.stringify({ b: 2 }));
    assert.deepEqual(v.getTyped('visits'), { type: 'int32', value: 8 });
    assert.deepEqual(v.getTyped('uid'), { type: 'uint64', value: 6n });
    assert.deepEqual(v.getTyped('prefs'), { type: 'json.RawMessage', value: '{"b":2}' });
    assert.throws(() => v.set('visits', 1.5), /1\.5 is not a int32; the key holds a int32: name the type to store another, as set\(key, value, 'float64'\)/);
    assert.throws(() => v.set('ttl', 3600), /3600 has no unit; .* or give the nanoseconds as a bigint/);
    assert.throws(() => v.set('ttl', 3600, 'time.Duration'), { name: 'TypeError', message: 'cookiesession: a time.Duration counts nanoseconds, and 3600 has no unit: give a bigint, such as 3600n * 1_000_000_000n for 3600 seconds' });
    assert.throws(() => v.set('prefs', 'dark'), /not valid JSON; the key holds a json.RawMessage/);
    assert.deepEqual(v.getTyped('visits'), { type: 'int32', value: 8 }, 'unchanged');
    assert.equal(v.set('visits', 1.5, 'float64').getTyped('visits').type, 'float64', 'a named type changes it');
    assert.equal(v.set('prefs', 'dark', 'string').set('prefs', 'light').getTyped('prefs').type, 'string');
    assert.equal(v.set('uid', 'u_1').getTyped('uid').type, 'string', 'a value of another JS type takes its own');
    assert.throws(() => v.set('role', undefined), /value is undefined: give null to store a nil, or delete the key/);
    assert.equal(v.has('role'), false);
  });

  it('keeps a Go float a bigint replaces without a type, or says why it cannot', () => {
    const v = new Values().set('price', 0.5, 'float64').set('ratio', 0.5, 'float32');
    assert.deepEqual(v.set('price', 7n).getTyped('price').type, 'float64', 'not an int: Go reads it back as the float64 it stored');
    assert.equal(v.get('price'), 7);
    assert.equal(v.set('ratio', 3n).getTyped('ratio').type, 'float32');
    assert.throws(() => v.set('price', 2n ** 53n + 1n), /9007199254740993 is not exactly a float64; the key holds a float64: name the type to store another, as set\(key, value, 'int'\)/);
    assert.throws(() => v.set('ratio', 2n ** 24n + 1n), /16777217 is not exactly a float32/);
    assert.throws(() => v.set('ratio', 0.1), { name: 'RangeError', message: "cookiesession: 0.1 is not exactly a float32: give Math.fround(value), the float32 nearest it; the key holds a float32: name the type to store another, as set(key, value, 'float64')" });
    assert.equal(v.set('ratio', Math.fround(0.1)).getTyped('ratio').type, 'float32');
    assert.throws(() => v.set('price', 2n ** 1024n), { name: 'RangeError', message: /^cookiesession: \d+ is not exactly a float64/ }, 'past the largest float64');
    assert.equal(v.get('price'), 7, 'unchanged');
  });

  it('says an integer type takes a whole number, not that it needs a bigint', () => {
    const v = new Values().set('visits', 41, 'int');
    assert.throws(() => v.set('visits', 41.5), /41\.5 is not a int: give a whole number/);
    assert.throws(() => v.set('id', 2 ** 53 + 2, 'int64'), /9007199254740994 is past 2\^53, where a number has lost its last digits: give a bigint/);
  });

  it('refuses a record member seal does not know, which the token would leave out', () => {
    const codec = new Codec(ring, { name: 's' });
    const values = new Values().set('user', 'bob');
    assert.throws(() => codec.seal({ value: values }, now), /record has no member "value"; the members are id, created, expires, keyId, lifetime, values/);
    assert.throws(() => codec.seal({ values, userId: 'u1' }, now), /record has no member "userId"/);
    assert.throws(() => codec.seal(null, now), /record must be a plain object/);
    const rec = codec.open(codec.seal({ values }, now), now);
    assert.equal(rec.values.get('user'), 'bob', 'a record open gave seals again');
    assert.ok(codec.seal(rec, now));
  });

  it('refuses an option, or a lifetime member, it does not know, and a flag that is not a boolean', async () => {
    const refused = [
      [() => new SessionCookies(ring, { maxage: 60 }), /SessionCookiesOptions has no member "maxage"; the name is maxAge/],
      [() => new SessionCookies(ring, { sessionOnly: true }), /has no member "sessionOnly"; the members are name, maxAge/],
      [() => new SessionCookies(ring, { secure: 'false' }), /SessionCookiesOptions.secure must be a boolean/],
      [() => new SessionCookies(ring, { httpOnly: 0 }), /httpOnly must be a boolean/],
      [() => new SessionCookies(ring, { browserSession: 'false' }), /browserSession must be a boolean/],
      [() => new Codec(ring, { name: 's', maxTokenLength: 8192 }), /CodecOptions has no member "maxTokenLength"/],
      [() => new Codec(ring, { name: 's' }).seal({ lifetime: { maxage: 2592000 } }, now), /lifetime has no member "maxage"; the name is maxAge/],
      [() => new Codec(ring, { name: 's' }).seal({ lifetime: { remember: true } }, now), /lifetime has no member "remember"/],
      // Under the browserSession option an all-zero lifetime is replaced by a persistent one: a typo must not read as zero.
      [() => new SessionCookies(ring, { name: 's', browserSession: true }).seal({ lifetime: { maxage: 2592000 } }, now), /lifetime has no member "maxage"; the name is maxAge/],
      [() => new SessionCookies(ring, { name: 's', browserSession: true }).seal({ lifetime: { browserSession: 'true' } }, now), /lifetime.browserSession must be a boolean/],
    ];
    for (const [f, message] of refused) assert.throws(f, (e) => e instanceof TypeError && message.test(e.message), String(message));
    new SessionCookies(ring, { name: 's', path: undefined, domain: undefined }); // undefined is absent
    // Options or a lifetime whose members are not own properties would all read as absent.
    const notPlain = [
      [() => new SessionCookies(ring, new Map([['maxAge', 60]])), /SessionCookiesOptions must be a plain object such as \{ name: \.\.\. \}, not a Map/],
      [() => new SessionCookies(ring, null), /SessionCookiesOptions must be a plain object .*, not null/],
      [() => new Codec(ring, 'session'), /CodecOptions must be a plain object .*, not a string/],
      [() => new Codec(ring, { name: 's' }).seal({ lifetime: new Map([['maxAge', 2592000]]) }, now), /lifetime must be a plain object such as \{ maxAge: \.\.\. \}, not a Map/],
      [() => new Codec(ring, { name: 's' }).seal({ lifetime: [2592000] }, now), /lifetime must be a plain object .*, not an Array/],
    ];
    for (const [f, message] of notPlain) assert.throws(f, (e) => e instanceof TypeError && message.test(e.message), String(message));
    // What is not refused: a module's exports (import * as options), objects of another realm, without a prototype, frozen.
    const ns = await import('data:text/javascript,export const name = "s"; export const maxAge = 600;');
    assert.match(new SessionCookies(ring, ns).seal({}, now)[0], /^s=.*; Max-Age=600;/);
    const typo = await import('data:text/javascript,export const maxage = 600;');
    assert.throws(() => new SessionCookies(ring, typo), /SessionCookiesOptions has no member "maxage"; the name is maxAge/);
    for (const options of [runInNewContext('({ name: "s", maxAge: 600 })'), Object.freeze(Object.assign(Object.create(null), { name: 's', maxAge: 600 })), structuredClone({ name: 's', maxAge: 600 })]) {
      assert.match(new SessionCookies(ring, options).seal({ lifetime: runInNewContext('({ maxAge: 60 })') }, now)[0], /^s=.*; Max-Age=60;/);
    }
    for (const maxAge of [NaN, '', null, -1]) {
      const record = { lifetime: { maxAge } };
      assert.throws(() => new SessionCookies(ring, { name: 's', browserSession: true }).seal(record, now), /lifetime.maxAge must be a whole number of seconds/, String(maxAge));
      assert.equal(record.lifetime.maxAge, maxAge, 'not replaced');
    }
  });

  it('refuses a lifetime the options would cut or end first, as Go\'s SetLifetime, but re-seals one a cookie carried', () => {
    const cookies = new SessionCookies(ring, { name: 's' });
    assert.throws(() => cookies.seal({ lifetime: { maxAge: 2592000 } }, now), /lifetime 2592000 s is beyond maxLifetime 86400, .* set the maxLifetime option/);
    assert.throws(() => cookies.seal({ lifetime: { maxAge: 600, idleTimeout: 3600 } }, now), /idleTimeout 3600 is longer than the session's maxAge 600/);
    assert.throws(() => cookies.seal({ lifetime: { idleTimeout: 90000 } }, now), /idleTimeout 90000 is longer than the session's maxAge 86400/);
    // A remember-me cookie from an origin with a higher ceiling (or before it was lowered) is cut, as Go cuts it.
    const [line] = new SessionCookies(ring, { name: 's', maxLifetime: 2592000 }).seal({ values: new Values().set('u', 'ann'), lifetime: { maxAge: 2592000 } }, now);
    const record = cookies.open(line.split(';')[0], now);
    delete record.expires;
    assert.match(cookies.seal(record, now)[0], /; Max-Age=86400;/);
    assert.match(cookies.seal(record, now)[0], /; Max-Age=86400;/, 'again');
    record.lifetime.maxAge = 2 * 2592000;
    assert.throws(() => cookies.seal(record, now), /beyond maxLifetime/, 'a lifetime changed after open is the caller\'s');
  });

  // Browsers cut a Max-Age over 400 days to 400 days without a word, and
  // durations here are seconds: express-session's maxAge of 86400000 (a
  // day in milliseconds) was taken as 1000 days, and written so.
  it('refuses a persistent cookie past the 400 days browsers keep, as Go\'s New and SetLifetime', () => {
    const years2 = 2 * 365 * 86400;
    const refused = [
      [{ maxAge: 86400000 }, /^cookiesession: maxAge 86400000 s is 1000 days, and with no idleTimeout the cookie's Max-Age passes 400 days, .*set an idleTimeout of at most 34560000 \(400 days\).*; durations here are seconds: for express-session's milliseconds, divide by 1000$/],
      [{ maxAge: years2, maxLifetime: years2 }, /maxAge 63072000 s is 730 days, and with no idleTimeout/],
      [{ maxAge: years2, idleTimeout: 34560001 }, /idleTimeout 34560001 s is more than 400 days, longer than browsers keep a cookie/],
      // Before the rule that idleTimeout be shorter than maxAge, whose fix (raise maxAge) would lead here.
      [{ idleTimeout: 86400000 }, /idleTimeout 86400000 s is 1000 days, longer than browsers keep .* divide by 1000$/],
    ];
    for (const [o, message] of refused) assert.throws(() => new SessionCookies(ring, o), (e) => e instanceof RangeError && message.test(e.message), JSON.stringify(o));
    for (const o of [{ maxAge: 34560000 }, { maxAge: years2, idleTimeout: 34560000 }, { maxAge: years2, browserSession: true }, { maxAge: 2592000, maxLifetime: years2 }]) {
      new SessionCookies(ring, o);
    }
    const cookies = new SessionCookies(ring, { name: 's', maxLifetime: years2 });
    assert.throws(() => cookies.seal({ lifetime: { maxAge: years2 } }, now), /^RangeError: cookiesession: lifetime: the session's maxAge 63072000 s is 730 days, and with no idleTimeout/);
    assert.throws(() => cookies.seal({ lifetime: { maxAge: years2, idleTimeout: years2 } }, now), /lifetime: the session's idleTimeout 63072000 s/);
    assert.throws(() => cookies.seal({ lifetime: { maxAge: 86400000 } }, now), /maxAge 86400000 s is 1000 days.*divide by 1000$/, 'before the ceiling');
    assert.match(cookies.seal({ lifetime: { maxAge: years2, idleTimeout: 2592000 } }, now)[0], /; Max-Age=2592000;/);
    assert.doesNotMatch(cookies.seal({ lifetime: { maxAge: years2, browserSession: true } }, now)[0], /Max-Age/);
    const rolling = new SessionCookies(ring, { name: 's', maxAge: 7200, idleTimeout: 3600, maxLifetime: years2 });
    assert.match(rolling.seal({ lifetime: { maxAge: years2 } }, now)[0], /; Max-Age=3600;/, "the idleTimeout option's window");
    // Under the browserSession option, {} asks for a persistent cookie of the maxAge option.
    const browser = new SessionCookies(ring, { name: 's', maxAge: years2, browserSession: true });
    assert.throws(() => browser.seal({ lifetime: {} }, now), /maxAge 63072000 s is 730 days/);
    assert.doesNotMatch(browser.seal({ lifetime: { browserSession: true } }, now)[0], /Max-Age/);
  });

  it('names a key id written in upper case', () => {
    const text = '{"version":1,"primary":"1A2B3C4D","keys":[{"id":"1A2B3C4D","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}';
    assert.throws(() => parseKeyRing(text), /not 8 lower-case hex digits: it has upper-case letters; write them in lower case/);
    assert.throws(() => parseKeyRing(text.replaceAll('1A2B3C4D', '1x2b3c4d')), (err) => !/upper-case/.test(err.message));
  });

  it('says what a ring version other than 1 is, and the fix, in the words of Go', () => {
    const text = (version) => `{"version":${version},"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}`;
    const msg = 'cookiesession: key ring version is not 1, the only version supported: ';
    const respell = '; write "version": 1, as cookiesession keygen does';
    for (const [version, want] of [
      ['1.0', `${msg}it is 1 written with a fraction or an exponent (1.0, 1e0)${respell}`],
      ['1e0', `${msg}it is 1 written with a fraction or an exponent (1.0, 1e0)${respell}`],
      ['0', `${msg}it is 0${respell}`],
      ['-1', `${msg}it is negative${respell}`],
      ['"1"', `${msg}it is not a number${respell}`],
      ['2', `${msg}it is 2, a format this release does not read (written by a newer release?): upgrade this program to the release that wrote the ring`],
      ['2.5', `${msg}it is a number other than 1 written with a fraction or an exponent${respell}`],
      ['12', `${msg}it is a number of 2 digits, past any version a release writes${respell}`],
      ['9'.repeat(300), `${msg}it is a number of 300 digits, past any version a release writes${respell}`],
      ['294e7398', `${msg}it is a number other than 1 written with a fraction or an exponent${respell}`],
    ]) {
      assert.throws(() => parseKeyRing(text(version)), { message: want }, version);
    }
  });

  it('echoes no digit of a hex secret written unquoted as the version', () => {
    // A secret in hex is read as a number up to its first letter but e.
    const hex = '294e7398bde2072c51769bc0e50a2f54799ec3e80d32577ca1c6eb10355a7fa4';
    for (const version of [hex, hex.toUpperCase(), `1234567890${hex.slice(10)}`, `8144${hex.slice(4)}`]) {
      const text = `{"version":${version},"primary":"1a2b3c4d","keys":[]}`;
      assert.throws(() => parseKeyRing(text), (err) => !err.message.includes(version.slice(0, 4)), version);
    }
  });

  it("names a ring's keys, and the fix, when its primary is not among them, in the words of Go", () => {
    const secret = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const ringText = (primary, keys) => `{"version":1,"primary":"${primary}","keys":[${keys}]}`;
    assert.throws(() => parseKeyRing(ringText('5e6f7a8b', `{"id":"1a2b3c4d","secret":"${secret}"}`)), {
      message: 'cookiesession: primary key 5e6f7a8b is not in the ring, which holds 1a2b3c4d: make the primary the key that seals now, and keep every key whose sessions have not expired',
    });
    assert.throws(() => parseKeyRing(ringText('1a2b3c4d', '')), { message: 'cookiesession: key ring has no keys: a ring holds at least its primary; cookiesession keygen writes one' });
    assert.throws(() => parseKeyRing(ringText('1a2b3c4d', `{"id":"1a2b3c4d","secret":"${secret}","promote_at":"2099-01-01T00:00:00Z"}`)), {
      message: 'cookiesession: primary key 1a2b3c4d cannot have a promotion time: remove it, as it is for a key that takes over later',
    });
  });

  it('says what to pass instead of a ring text, a Cookie header, values or a time', () => {
    assert.throws(() => parseKeyRing(undefined), /parseKeyRing needs the ring's JSON text, a string or bytes, not undefined: is the variable holding it \(COOKIESESSION_KEYS\) set/);
    assert.throws(() => parseKeyRing({ version: 1 }), /not object/);
    const cookies = new SessionCookies(ring, { name: 's' });
    for (const header of [new Headers({ cookie: 's=x' }), { s: 'x' }, [new Headers()]]) {
      assert.throws(() => cookies.open(header, now), /give the Cookie header's text, such as request.headers.get\('cookie'\)/);
    }
    assert.throws(() => cookies.seal({ values: { role: 'admin' } }, now), /record.values must be a Values/);
    assert.throws(() => cookies.seal({}, Date.now()), /now must be a valid Date/);
    assert.throws(() => cookies.open('s=x', new Date('soon')), /now must be a valid Date/);
  });
});

describe('KeyRing.fingerprint', () => {
  // Computed apart: SHA-256 of the label of FORMAT.md section 6 and the secret, 6 bytes in hex.
  it('tells secrets under one id apart, and shows none: toString names the ids alone', async () => {
    const other = parseKeyRing(ringText([{ id: 7, secret: new Uint8Array(32).fill(1) }]));
    assert.equal(await ring.fingerprint(7), '9d069e07c8cb');
    assert.equal(await other.fingerprint(7), '080da39a1fbe');
    assert.equal(await ring.fingerprint(8), undefined);
    // The hex id cookiesession list prints matches no key: refused, not undefined.
    await assert.rejects(ring.fingerprint('00000007'), {
      name: 'TypeError',
      message: 'cookiesession: fingerprint takes a key id as a number, not "00000007": write it as a number, 0x00000007',
    });
    for (const id of ['7', 7.5, -1, 2 ** 32, 7n, undefined]) {
      await assert.rejects(ring.fingerprint(id), TypeError, String(id));
    }
    assert.equal(ring.secret(7).every((b) => b === 9), true, 'the secret is left as it was');
    // README: toString does not show the fingerprint, nor the secret.
    const secret = Buffer.from(ring.secret(7)).toString('base64');
    for (const shown of [String(ring), `${ring}`, JSON.stringify({ ring })]) {
      assert.ok(shown.includes('00000007') && !shown.includes('9d069e07c8cb') && !shown.includes(secret), shown);
    }
  });
});

describe('a ring text as an environment variable or secret mangles it', () => {
  // As Go's LoadKeyRingEnv: the parser's error names only the first byte.
  const text = ringText([{ id: 7, secret: new Uint8Array(32).fill(9) }]);
  const pretty = JSON.stringify(JSON.parse(text), null, 2);
  it('names the wrapping and the fix, and never echoes the text', () => {
    const cases = [
      [`"${text}"`, /holds the key ring inside quotes that are part of the value \(jq without -r adds them\): remove them, so that it starts with \{$/],
      [JSON.stringify(text), /inside quotes/],
      [`'${text}'\n`, /inside quotes/],
      [text.replaceAll('"', '\\"'), /with its quotes escaped as \\": remove the backslashes$/],
      [JSON.stringify(JSON.parse(text), null, 2).replaceAll('\n', '\\n'), /with its line breaks written as \\n \(the text of a JSON or YAML string kept without its quotes\): set the variable to the ring's text itself, without quotes around it$/],
      [JSON.stringify(JSON.stringify(JSON.parse(text), null, 2)).slice(1, -1), /with its line breaks written as \\n/],
      [`'${JSON.stringify(JSON.parse(text), null, 2).replaceAll('\n', '\\n')}'`, /with its line breaks written as \\n/],
      [`"${JSON.stringify(JSON.parse(text), null, 2).replaceAll('\n', '\\n')}"`, /with its line breaks written as \\n/],
      [btoa(text), /encoded in base64: set it to the decoded JSON text$/],
      [Buffer.from(text).toString('base64url'), /encoded in base64/],
      [`COOKIESESSION_KEYS=${text}`, /holds the key ring as a whole \.env line \(COOKIESESSION_KEYS=\.\.\., perhaps after export\): set the variable to the value alone$/],
      [`export COOKIESESSION_KEYS='${text}'`, /as a whole \.env line/],
      [`COOKIESESSION_KEYS=${JSON.stringify(text)}`, /as a whole \.env line/],
      // As Go's: a whole .env line inside quotes, name and all, as some tools write a variable.
      [`"COOKIESESSION_KEYS=${text}"`, /holds the key ring as a whole \.env line inside quotes, name and all \("COOKIESESSION_KEYS=\{\.\.\.\}", perhaps after export\): set the variable to the value alone, without the name, the = and the quotes around the line \(in a \.env file, quote the value alone: COOKIESESSION_KEYS='\{\.\.\.\}'\)$/],
      [`'export COOKIESESSION_KEYS=${text}'\n`, /as a whole \.env line inside quotes, name and all/],
      [JSON.stringify(`COOKIESESSION_KEYS=${text}`), /as a whole \.env line inside quotes, name and all/],
      [`"COOKIESESSION_KEYS='${text}'"`, /as a whole \.env line inside quotes, name and all/],
      // As Go's: a quote at one end only, alone or as a .env line's value.
      [`"${text}`, /holds the key ring with a stray quote at its start or end, a quote opened and not closed or closed and not opened \(a \.env file, an Environment= line or a YAML value quoted on one side only keeps it as part of the value\): remove it, so that it starts with \{ and ends with \}$/],
      [`${text}"\n`, /with a stray quote at its start or end/],
      [`"${text}'`, /with a stray quote at its start or end/],
      [`"\n${pretty}`, /with a stray quote at its start or end/],
      [`COOKIESESSION_KEYS="${text}`, /holds the key ring as a whole \.env line \(COOKIESESSION_KEYS=\.\.\., perhaps after export\) whose value has a stray quote at its start or end, a quote opened and not closed or closed and not opened: set the variable to the value alone, without the stray quote \(in the \.env file, quote the value at both ends or at neither\)$/],
      [`export COOKIESESSION_KEYS=${text}'\n`, /as a whole \.env line \(COOKIESESSION_KEYS=\.\.\., perhaps after export\) whose value has a stray quote/],
      [`export 'COOKIESESSION_KEYS=${text}'`, /as a whole \.env line inside quotes, name and all/],
      // As Go's: a quote before the line's name, not closed (a line quoted whole that lost its closing quote).
      [`"COOKIESESSION_KEYS=${text}\n`, /holds the key ring as a whole \.env line with a stray quote before its name, a quote opened and not closed \("COOKIESESSION_KEYS=\{\.\.\., perhaps after export\): set the variable to the value alone, without the stray quote, the name and the = \(in a \.env file, a line starts with the name, and only the value may be quoted: COOKIESESSION_KEYS='\{\.\.\.\}'\)$/],
      [`'COOKIESESSION_KEYS="${text}"`, /as a whole \.env line with a stray quote before its name/],
      [`export "COOKIESESSION_KEYS=${text}`, /as a whole \.env line with a stray quote before its name/],
      [`"export COOKIESESSION_KEYS=${text}\r\n`, /as a whole \.env line with a stray quote before its name/],
      [`COOKIESESSION_KEYS=${text}"`, /as a whole \.env line \(COOKIESESSION_KEYS=\.\.\., perhaps after export\) whose value has a stray quote/],
      ['./keys/ring.json', /looks like a file path, not the key ring's JSON text: set the variable to the file's content$/],
      // As Go's TestLoadKeyRingEnvWrapped and TestLoadKeyRingFileWrapped.
      [btoa(btoa(text)), /holds the key ring encoded in base64 twice: set it to the JSON text, decoded twice \(a Kubernetes Secret's data is decoded once before it reaches the environment: encode the ring once, or use stringData\)$/],
      [`${btoa(btoa(text))}\n`, /encoded in base64 twice/],
      [`"${btoa(text)}"`, /holds the key ring encoded in base64 inside quotes that are part of the value \(a \.env file's quotes kept by docker run --env-file, or jq without -r\): set it to the decoded JSON text, without the quotes$/],
      [`{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","Name":"ring","SecretString":${JSON.stringify(text)},"VersionStages":["AWSCURRENT"]}`,
        /holds the key ring as the value of \.SecretString in a JSON document \(a secret manager's response, such as aws secretsmanager get-secret-value, or a key\/value secret\): set the secret or variable to that value alone \(jq -r '\.SecretString'\)$/],
      [`{"Parameter":{"Name":"/app/ring","Type":"SecureString","Value":${JSON.stringify(pretty)}}}`, /as the value of \.Parameter\.Value in a JSON document/],
      [`{"data":{"data":${text},"metadata":{"version":3}}}`, /as the value of \.data\.data in a JSON document .*\(jq -r '\.data\.data'\)$/],
      [`{"other":"x","my-app ring":${JSON.stringify(text)}}`, /as the value of \.\["my-app ring"\] in a JSON document/],
      [`{"apps":{"my app":{"ring":${JSON.stringify(text)}}}}`, /as the value of \.apps\["my app"\]\.ring in a JSON document/],
      [`{"":${JSON.stringify(text)}}`, /as the value of \.\[""\] in a JSON document .*\(jq -r '\.\[""\]'\)$/],
      // As Go's TestRingMemberNameNotEchoed: a name that may be a secret, or is over 64 bytes, is not echoed.
      [`{"outer":{"q8Zx0Lk2vP9mR4tYw7Nc1Hs5Jd3Fg6Bh0Ae2Ui4Oo8A=":${JSON.stringify(text)}}}`, /as the value of \.outer\[<a member name of 44 bytes, not shown>\] in a JSON document/],
      [`{"${'9f'.repeat(32)}":${JSON.stringify(text)}}`, /as the value of \.\[<a member name of 64 bytes, not shown>\] in a JSON document/],
      [`{"${'n'.repeat(100000)}":${JSON.stringify(text)}}`, /^.{0,1024}$/s],
      [`{"COOKIESESSION_KEYS_PRODUCTION":${JSON.stringify(text)}}`, /as the value of \.COOKIESESSION_KEYS_PRODUCTION in a JSON document/],
    ];
    for (const [mangled, want] of cases) {
      assert.throws(() => parseKeyRing(mangled), (err) => want.test(err.message) && !err.message.includes('CQkJ'), mangled);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(mangled)), want, 'as bytes');
    }
    // As Go's TestRingQuotesRemoved: a shell or systemd removed every double quote.
    const scheduled = ringText([{ id: 0x12345678, secret: new Uint8Array(32).fill(9) }, { id: 0x5e6f7a8b, secret: new Uint8Array(32).fill(3), promoteAt: '2026-12-01T10:30:00Z' }]);
    const quotesRemoved = /^cookiesession: parsing key ring: the text holds the key ring with every double quote removed \(a shell removes them .*systemd from an Environment= line\): put the ring's text in single quotes \(COOKIESESSION_KEYS='\{\.\.\.\}'\), or set it from the file \(COOKIESESSION_KEYS="\$\(cat ring\.json\)"/;
    for (const bare of [scheduled.replaceAll('"', ''), `${JSON.stringify(JSON.parse(scheduled), null, 2).replaceAll('"', '')}\n`]) {
      assert.throws(() => parseKeyRing(bare), (err) => quotesRemoved.test(err.message) && !err.message.includes('CQkJ') && !err.message.includes('AwMD'), bare);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(bare)), (err) => quotesRemoved.test(err.message), 'as bytes');
    }
    // A text that is no ring with its quotes removed keeps the parser's error.
    assert.throws(() => parseKeyRing('{version:1,primary:12345678,keys:[]}'), (err) => !err.message.includes('double quote'));
    // A text that is not a ring inside, however wrapped, keeps the parser's error.
    assert.throws(() => parseKeyRing('"{}"'), { message: 'cookiesession: parsing key ring: the key ring is not an object' });
    assert.throws(() => parseKeyRing('"COOKIESESSION_KEYS={}"'), { message: 'cookiesession: parsing key ring: the key ring is not an object' });
    assert.throws(() => parseKeyRing('"COOKIESESSION_KEYS={}'), { message: 'cookiesession: parsing key ring: the text ends before the ring does: a truncated file, or one read while it was being written' });
    assert.throws(() => parseKeyRing(btoa(btoa('{"version":2}'))), { message: 'cookiesession: parsing key ring: invalid character at byte 0' });
    // Four objects deep is past where Go looks, and a ring in an array is not looked for.
    for (const doc of [`{"a":{"b":{"c":{"d":${JSON.stringify(text)}}}}}`, `{"rings":[${JSON.stringify(text)}]}`, `{"SecretString":"{}"}`]) {
      assert.throws(() => parseKeyRing(doc), { message: /^cookiesession: parsing key ring: the key ring has an unknown member \(of \d+ bytes\)/ }, doc);
    }
    assert.throws(() => parseKeyRing(btoa('{"version":2}')), { message: 'cookiesession: parsing key ring: invalid character at byte 0' });
  });
});

describe("what an edge operator sets in the ring's place", () => {
  const secret = new Uint8Array(32).map((_, i) => 200 - i);
  const b64 = Buffer.from(secret).toString('base64');
  const hexed = Buffer.from(secret).toString('hex');
  const text = ringText([{ id: 7, secret }]);
  const shows = (msg) => [b64.slice(2, 10), hexed.slice(2, 12), Buffer.from(text).toString('base64').slice(4, 12)].some((part) => msg.includes(part));

  it("names a single secret given for the ring, as Go's TestRingIsOneSecret, with the fix for a secret or variable", () => {
    const head = (what) => `cookiesession: parsing key ring: the text holds a single secret (${what}), not a key ring: a ring is the JSON text cookiesession keygen writes, which names each key by an id so that keys can rotate: make one (cookiesession keygen -out ring.json) and set the secret or variable to its text (wrangler secret put COOKIESESSION_KEYS < ring.json)`;
    for (const [given, what] of [
      [`${b64}\n`, '32 bytes in base64'], // wrangler secret put COOKIESESSION_KEYS, then openssl rand -base64 32 pasted
      [Buffer.from(secret).toString('base64url'), '32 bytes in base64'],
      [`${hexed}\n`, '32 bytes in hex'],
      [Buffer.concat([secret, secret]).toString('base64'), '64 bytes in base64'], // as securecookie takes a key
    ]) {
      assert.throws(() => parseKeyRing(given), (err) => err.message === head(what) && !shows(err.message), given);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(given)), { message: head(what) }, 'as bytes');
    }
    // A path is still named as one, and a short word or text in base64 is no secret.
    assert.throws(() => parseKeyRing('/run/secrets/ring'), /looks like a file path/);
    assert.throws(() => parseKeyRing('changeme'), { message: 'cookiesession: parsing key ring: invalid character at byte 0' });
    assert.throws(() => parseKeyRing(btoa('a password of some length')), (err) => !err.message.includes('single secret'));
  });

  it("names a shell expansion that nothing expanded (wrangler.toml, .dev.vars, a prompt), as Go's LoadKeyRingEnv", () => {
    const fix = "that no shell expanded: a prompt (wrangler secret put), a dashboard's field or a file that no shell reads (wrangler.toml, .dev.vars, .env) keeps it as written: pipe the ring's text in (wrangler secret put COOKIESESSION_KEYS < ring.json), or write the text itself there, on one line (jq -c . ring.json)";
    for (const [given, kind] of [
      ['$(cat ring.json)', 'command substitution ($(...) or `...`)'],
      ["'$(cat /etc/app/ring.json)'", 'command substitution ($(...) or `...`)'],
      ['`cat ring.json`', 'command substitution ($(...) or `...`)'],
      ['$(< ring.json)\n', 'command substitution ($(...) or `...`)'],
      ['${RING}', 'variable reference (${...}, $env:...)'],
      ['$ENV:RING', 'variable reference (${...}, $env:...)'],
      ['"$RING"', 'variable reference ($NAME)'],
      ['%RING%', 'variable reference (%NAME%, as cmd.exe writes it)'],
    ]) {
      assert.throws(() => parseKeyRing(given), { message: `cookiesession: parsing key ring: the text holds a ${kind} ${fix}` }, given);
    }
    // Not an expansion: a price, or a per cent sign in a word.
    for (const given of ['$5', '%RING TEXT%']) assert.throws(() => parseKeyRing(given), (err) => !err.message.includes('no shell expanded'), given);
  });

  it("names the ring in base64 in a member (kubectl get secret -o json), UTF-16 without a mark, a comment and YAML, as Go's TestParseKeyRingErrorsNameTheRule", () => {
    const doc = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { 'ring.json': btoa(text) } });
    const cases = [
      [doc, `cookiesession: parsing key ring: the text holds the key ring in base64 as the value of .data["ring.json"] in a JSON document (a Kubernetes Secret read through its API, kubectl get secret -o json, whose data is in base64): set the secret or variable to that value decoded (jq -r '.data["ring.json"] | @base64d')`],
      [Buffer.from(text, 'utf16le'), 'cookiesession: parsing key ring: the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8 (in PowerShell, Set-Content -Encoding utf8NoBOM; iconv -f UTF-16LE -t UTF-8)'],
      [Buffer.from(text, 'utf16le').toString('latin1'), 'cookiesession: parsing key ring: the text is UTF-16 without a byte-order mark'],
      [`# rotated in May\n${text}`, "cookiesession: parsing key ring: the text starts with a comment (// or #), which the ring's JSON text form does not allow: remove it, so that the text starts with {"],
      [`version: 1\nprimary: "00000007"\nkeys:\n  - id: "00000007"\n    secret: "${b64}"\n`, "cookiesession: parsing key ring: the text is YAML (lines of name: value), not the ring's JSON text form: write the ring as JSON, as cookiesession keygen does (yq -o json converts it)"],
      [`apiVersion: v1\nkind: Secret\nstringData:\n  ring.json: '${text}'\n`, 'cookiesession: parsing key ring: the text is a Kubernetes manifest (YAML), not the ring: take the value of its stringData (or its data, decoded from base64)'],
    ];
    for (const [given, want] of cases) assert.throws(() => parseKeyRing(given), (err) => err.message.startsWith(want) && !shows(err.message), want);
    // A member whose value is base64 of no ring keeps the parser's error.
    assert.throws(() => parseKeyRing(JSON.stringify({ data: { 'ring.json': btoa('{"version":2}') } })), /has an unknown member \(of 4 bytes\)/);
  });
});

describe('two keys with one id', () => {
  // As Go's TestDuplicateKeyIDNamed, without the fingerprints, which WebCrypto computes only
  // asynchronously: the message names the command that prints them, not KeyRing.fingerprint,
  // which a ring that does not parse cannot offer.
  const [a, b, c] = [new Uint8Array(32).fill(9), new Uint8Array(32).fill(3), new Uint8Array(32).fill(5)];
  it('names both places and the fix, and no secret', () => {
    const cases = [
      [[{ id: 7, secret: a }, { id: 8, secret: b }, { id: 7, secret: a }],
        'cookiesession: duplicate key id 00000007: keys[0] and keys[2] are the same key twice (two rings merged, or one key added twice): remove one of them'],
      [[{ id: 8, secret: b }, { id: 7, secret: a }, { id: 7, secret: c }],
        'cookiesession: duplicate key id 00000007: keys[1] and keys[2] are two different keys under one id (this text given to cookiesession list, by -ring FILE or on stdin by -ring -, names their fingerprints), and a token names its key by id alone: one id per key; keep the key whose fingerprint the instances show for 00000007 (cookiesession list, /debug/vars) and replace the other with a key of a fresh id (cookiesession add makes one in a ring file, cookiesession keygen a new ring)'],
      // Copies whose promote_at differs: removing the wrong one drops a scheduled promotion unseen.
      [[{ id: 8, secret: b }, { id: 7, secret: a, promoteAt: '2030-01-01T00:00:00Z' }, { id: 7, secret: a }],
        'cookiesession: duplicate key id 00000007: keys[1] and keys[2] are the same key twice (two rings merged, or one key added twice), keys[1] with a promote_at and keys[2] without: keep the one whose promotion the rotation means (none: the key stays open-only until promoted, as the primary has none) and remove the other'],
    ];
    for (const [keys, want] of cases) {
      const text = ringText(keys);
      assert.throws(() => parseKeyRing(text), (err) => err.message === want && !/CQkJ|AwMD|BQUF/.test(err.message), want);
    }
  });
});

describe('a secret of 32 zero bytes', () => {
  // A placeholder pasted in, or a buffer never filled: anyone can seal under it.
  const zero = new Uint8Array(32);
  const other = new Uint8Array(32).fill(9);
  it('is refused as Go refuses it, naming the key and the fix, wherever it is in the ring', () => {
    for (const [keys, id] of [[[{ id: 7, secret: zero }], '00000007'], [[{ id: 7, secret: other }, { id: 8, secret: zero }], '00000008']]) {
      const text = ringText(keys);
      const refused = (err) => err.message.startsWith(`cookiesession: key ${id}: secret is all zero bytes`) && err.message.includes('cookiesession keygen') && !err.message.includes('AAAAAAAA');
      assert.throws(() => parseKeyRing(text), refused, text);
      assert.throws(() => parseKeyRing(new TextEncoder().encode(text)), refused, 'as bytes');
    }
  });
  it('cannot reach a Codec through the KeyRing constructor, which parseKeyRing alone calls', () => {
    // The class is exported (instanceof): built by hand, it took any secret, and the Codec sealed under it.
    const made = /^cookiesession: a KeyRing comes from parseKeyRing/;
    assert.throws(() => new KeyRing([{ id: 7, secret: zero, promoteAt: null }], 7), { name: 'TypeError', message: made });
    assert.throws(() => new KeyRing([{ id: 7, secret: other, promoteAt: null }], 7), { name: 'TypeError', message: made });
    assert.throws(() => new KeyRing(), { name: 'TypeError', message: made });
  });
});

describe('misuse is refused by name, not answered with a stray error or a silent change', () => {
  it('refuses a type name that is only an Object member, an id of the wrong length, times that are not Unix seconds and a sent that is no count', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty', null]) {
      assert.throws(() => new Values().set('k', 1, type), { name: 'TypeError', message: `cookiesession: unknown type ${type}` });
    }
    for (const sameSite of ['constructor', '__proto__', 'lax ']) {
      assert.throws(() => new SessionCookies(ring, { sameSite }), { name: 'RangeError', message: 'cookiesession: sameSite must be lax, strict or none' }, sameSite);
    }
    assert.throws(() => new SessionCookies(ring, { name: 5 }), { name: 'TypeError', message: 'cookiesession: name must be a string, such as "session"' });
    const codec = new Codec(ring, { name: 's' });
    for (const id of [new Uint8Array(15), new Uint8Array(17), new Uint8Array(0)]) {
      assert.throws(() => codec.seal({ id }, now), { name: 'RangeError', message: 'cookiesession: id must be 16 bytes' }, `${id.length} zero bytes`);
    }
    for (const bad of [{ created: now }, { created: 1767225600.5 }, { expires: null }, { expires: new Date(now.getTime() + 6e4) }]) {
      assert.throws(() => codec.seal(bad, now), /record\.(created|expires) must be whole Unix seconds, a bigint as open gives it/, String(Object.values(bad)[0]));
    }
    // null is how a caller says "none": the message says how to have it set anew.
    for (const bad of [{ created: null }, { expires: null }]) {
      assert.throws(() => codec.seal(bad, now), /leave it undefined, or delete it, not null/, Object.keys(bad)[0]);
    }
    const zero = { id: new Uint8Array(16) };
    codec.seal(zero, now);
    assert.ok(zero.id.some((b) => b !== 0), 'a zero id of 16 bytes is a new session, as in Go');
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3, maxCookieSize: 200 });
    const header = 's=a; s.1=b; s.2=c';
    for (const sent of [NaN, header, '2', -1, 1.5]) {
      assert.throws(() => cookies.clear(sent), /sent is the number of chunks the request held: pass chunksSent\(cookieHeader\)/, String(sent));
      assert.throws(() => cookies.seal({}, now, sent), /sent is the number of chunks/, String(sent));
    }
    assert.equal(cookies.clear(0).length, 1, 'at least the first');
    assert.equal(cookies.seal({}, now, cookies.chunksSent(header)).length, 3);
  });

  it("says the cookie's value was given for the Cookie header (request.cookies.get, req.cookies), which would read as no session", () => {
    const cookies = new SessionCookies(ring, { name: 'session', maxChunks: 3 });
    const value = (values) => cookies.seal({ values }, now, 0)[0].split(';')[0].slice('session='.length);
    const small = value(new Values().set('user_id', 'ada'));
    const first = value(new Values().set('cart', 'x'.repeat(6000))); // the first of three chunks
    const empty = value(new Values());
    assert.equal(cookies.open(`session=${small}`, now).values.get('user_id'), 'ada');
    for (const header of [small, [small], ` ${small} `, `"${small}"`, first, empty]) {
      assert.throws(() => cookies.open(header, now), (err) => err instanceof SessionError && err.kind === 'invalid' && err.keepCookie
        && err.message === "cookiesession: the Cookie header holds no cookie named session and is itself a session token, or its first chunk: give open and chunksSent the whole Cookie header (request.headers.get('cookie'), req.headers.cookie), not the cookie's value (request.cookies.get('session')?.value, req.cookies.session)", String(header).slice(0, 20));
    }
    // What is not a token of this ring is no session, as Go's Manager reads it: a
    // bare value of another ring's key, of no key, junk, or beside a cookie.
    const otherRing = parseKeyRing(ringText([{ id: 8, secret: new Uint8Array(32).fill(1) }]));
    const foreign = new SessionCookies(otherRing, { name: 'session' }).seal({}, now)[0].split(';')[0].slice('session='.length);
    for (const header of [foreign, 'A'.repeat(400), small.slice(0, MIN_TOKEN_LEN - 1), 'junk', '', `x=1; ${small}`, `${small}; ${small}`]) {
      assert.equal(cookies.open(header, now), null, header.slice(0, 20));
    }
  });
});

describe('SessionCookies without the chunks sent', () => {
  // A browser's cookie jar: Set-Cookie lines in, a Cookie header out.
  const jar = () => {
    const cookies = new Map();
    return {
      apply(lines) {
        for (const line of lines) {
          const [pair] = line.split(';');
          const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
          if (/; Max-Age=0(;|$)/.test(line)) cookies.delete(name);
          else cookies.set(name, value);
        }
      },
      header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    };
  };

  it('holds a Partitioned session to the 10,240 bytes Chromium keeps of a site\'s Partitioned cookies, as Go does', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 4, partitioned: true });
    const lines = cookies.seal({ values: new Values().set('blob', 'x'.repeat(7000)) }, now);
    const kept = lines.filter((l) => !l.includes('Max-Age=0')).map((l) => l.split(';')[0]);
    assert.equal(kept.length, 3);
    assert.ok(kept.reduce((sum, c) => sum + c.length - 1, 0) <= 10240, 'names and values within 10,240 bytes');
    assert.throws(() => cookies.seal({ values: new Values().set('blob', 'x'.repeat(8000)) }, now), (e) => e instanceof SessionError && e.kind === 'too_large');
  });

  it('expires every chunk beyond the token, so a session that shrank still opens', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3 });
    const browser = jar();
    browser.apply(cookies.seal({ values: new Values().set('blob', 'x'.repeat(5000)) }, now));
    assert.equal(cookies.chunksSent(browser.header()), 2);
    const record = cookies.open(browser.header(), now);
    record.values.set('blob', 'small');
    const lines = cookies.seal(record, now);
    assert.deepEqual(lines.slice(1), ['s.1=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax', 's.2=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax']);
    browser.apply(lines);
    assert.equal(cookies.open(browser.header(), now).values.get('blob'), 'small');
    assert.equal(cookies.seal(record, now, 1).length, 1, 'with sent, only the lines needed');
  });

  it('keeps the session of whichever of two parallel responses lands last', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3, maxCookieSize: 1024 });
    const first = cookies.seal({ values: new Values().set('user', 'u'.repeat(1000)) }, now);
    for (const shorterLast of [true, false]) {
      const browser = jar();
      browser.apply(first);
      const sent = cookies.chunksSent(browser.header());
      assert.equal(sent, 2);
      const grown = cookies.open(browser.header(), now);
      grown.values.set('cart', 'c'.repeat(600));
      const kept = cookies.open(browser.header(), now);
      kept.values.set('theme', 'dark');
      const grownLines = cookies.seal(grown, now, sent);
      const keptLines = cookies.seal(kept, now, sent);
      assert.equal(grownLines.length, 3);
      const [earlier, later, want] = shorterLast ? [grownLines, keptLines, 'theme'] : [keptLines, grownLines, 'cart'];
      browser.apply(earlier);
      browser.apply(later);
      assert.equal(cookies.open(browser.header(), now).values.get(want) !== undefined, true, `shorter last ${shorterLast}: ${browser.header().slice(0, 60)}`);
    }
  });

  it('clears every chunk', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3 });
    const browser = jar();
    browser.apply(cookies.seal({ values: new Values().set('blob', 'x'.repeat(5000)) }, now));
    browser.apply(cookies.clear());
    assert.equal(browser.header(), '');
    assert.equal(cookies.open(browser.header(), now), null);
  });
});

// FORMAT.md section 5, step 5: a cookie of the session's name that another
// host set for a parent domain or a longer path (cookie tossing) comes
// first in the Cookie header, and must not hide the session's own.
describe('SessionCookies, with a cookie tossed before the session', () => {
  const options = { name: 's', maxChunks: 3, maxCookieSize: 1200 };
  const cookies = new SessionCookies(ring, options);
  const sealed = (who, keys = ring, when = now, blob = '') => new SessionCookies(keys, options)
    .seal({ values: new Values().set('who', who).set('blob', blob) }, when, 0).filter((line) => !line.includes('Max-Age=0')).map((line) => line.split(';')[0]);
  const [genuine] = sealed('genuine');
  const [other] = sealed('other');
  const chunked = sealed('chunked', ring, now, 'x'.repeat(1000));
  const otherRing = parseKeyRing(ringText([{ id: 8, secret: new Uint8Array(32).fill(1) }]));
  const [unknownKey] = sealed('newer ring', otherRing);
  const [ahead] = sealed('fast clock', ring, new Date(now.getTime() + 3600e3));
  const who = (header) => cookies.open(header, now).values.get('who');
  const refusal = (header) => {
    try {
      cookies.open(header, now);
    } catch (err) {
      assert.ok(err instanceof SessionError, String(err));
      return `${err.kind}: ${err.reason}`;
    }
    assert.fail(`${header} opened`);
  };

  it('opens the genuine cookie after junk, and the first of two genuine ones', () => {
    assert.equal(chunked.length, 2);
    assert.equal(who(`s=junk; ${genuine}`), 'genuine');
    assert.equal(who(`s=; ${genuine}; ${other}`), 'genuine');
    assert.equal(who(`${other}; ${genuine}`), 'other', 'a genuine session tossed first still wins: use __Host-');
    assert.equal(who(`a=1; s=junk; b=2; s="${genuine.slice(2)}"`), 'genuine');
    assert.equal(who(`s=junk; ${chunked.join('; ')}`), 'chunked', 'joined with the chunks sent');
  });

  it('looks across Cookie lines', () => {
    assert.equal(who(['s=junk', `x=1; ${genuine}`]), 'genuine');
    assert.equal(who(['s=junk; x=1', chunked[0], chunked[1]]), 'chunked');
  });

  it('opens a one-cookie session beside a stray higher chunk', () => {
    assert.equal(who(`${genuine}; s.1=junk`), 'genuine');
    assert.equal(who(`s.2=junk; ${genuine}`), 'genuine', 'with a gap');
    assert.equal(cookies.chunksSent(`${genuine}; s.2=junk`), 3, 'so seal expires it');
    const flood = `${genuine}; ${Array.from({ length: 3001 }, (_, i) => `junk${i}=1`).join('; ')}`;
    assert.equal(cookies.chunksSent(flood), 3, 'a flooded header may hold any chunk, so clear expires every one, as Go does');
    assert.equal(cookies.clear(cookies.chunksSent(flood)).length, 3);
    assert.equal(who(`${chunked.join('; ')}; s.2=junk`), 'chunked', 'nor a chunked one');
    assert.equal(who(`s.1=junk; ${chunked.join('; ')}`), 'chunked', 'a tossed chunk before its own');
  });

  it('tries the first cookie of the name and four more, then the last four of the others', () => {
    assert.equal(who(`${'s=junk; '.repeat(4)}${genuine}`), 'genuine');
    // A deep page: one tossed per parent path before it, one per parent domain after it.
    assert.equal(who(`${'s=junk; '.repeat(12)}${genuine}`), 'genuine');
    assert.equal(who(`${'s=junk; '.repeat(12)}${genuine}${'; s=junk'.repeat(3)}`), 'genuine');
    assert.equal(refusal(`${'s=junk; '.repeat(5)}${genuine}${'; s=junk'.repeat(4)}`), 'invalid: token of 4 bytes is too short to be valid');
  });

  it('gives the first unknown_key or clock-skew error among those tried, else the first token\'s', () => {
    assert.equal(refusal(`s=junk; ${unknownKey}`), 'unknown_key: unknown key id 00000008');
    assert.equal(refusal(`s=junk; ${unknownKey}; ${ahead}`), 'unknown_key: unknown key id 00000008');
    assert.match(refusal(`s=junk; ${ahead}; ${unknownKey}`), /^invalid: session created in the future at 2026-01-01T01:00:00Z$/);
    assert.equal(who(`s=junk; ${unknownKey}; ${genuine}`), 'genuine', 'one that opens comes first');
    assert.equal(refusal(`s=junk; s=${genuine.slice(2, -4)}AAAA`), 'invalid: token of 4 bytes is too short to be valid');
  });

  it('reads a repeat of one value as one cookie, and tries it once', () => {
    // A Lambda function URL's event carries each cookie twice, in its
    // cookies array and in headers.cookie, and adapters pass on both.
    const counting = new SessionCookies(ring, options);
    const open = counting.codec.open.bind(counting.codec);
    let opens = 0;
    counting.codec.open = (token, when) => {
      opens++;
      return open(token, when);
    };
    const expired = new Date(now.getTime() + 2 * 86400e3);
    for (const [header, want] of [
      [`${genuine}; ${genuine}`, 1],
      [`${genuine}; s="${genuine.slice(2)}"`, 1],
      [[...chunked, chunked.join('; ')], 1 + 2], // step 5 for the chunks: the token, each base alone (joined, it is the token)
      [`${genuine}; ${genuine}; s=junk`, 1], // step 5, for junk is another value, opens neither copy of step 4's token again, nor junk too short to open
    ]) {
      opens = 0;
      assert.throws(() => counting.open(header, expired), /expired/, String(header));
      assert.equal(opens, want, `opens for ${String(header).slice(0, 60)}`);
    }
    assert.equal(counting.open(`${genuine}; ${genuine}`, now).values.get('who'), 'genuine');
  });

  it('spends its budget on chains of tiny chunks too short to open, as Go does', () => {
    // maxCookieSize 12: each chunk holds 2 to 11 bytes, so a chain of
    // several full values is shorter than any token. Skipped without
    // counting, 9 full values under each of 12 names were joined in every
    // combination (9 ** 12): the request never ended.
    const tiny = new SessionCookies(ring, { name: 's', maxChunks: 64, maxCookieSize: 12 });
    const open = tiny.codec.open.bind(tiny.codec);
    let opens = 0;
    tiny.codec.open = (token, when) => {
      opens++;
      return open(token, when);
    };
    const names = Array.from({ length: 4 }, (_, i) => (i === 0 ? 's' : `s.${i}`));
    const header = names.flatMap((n) => Array.from({ length: 9 }, (_, j) => `${n}=${String.fromCharCode(65 + j).repeat(12 - n.length)}`)).join('; ');
    assert.throws(() => tiny.open(header, now), /too short to be valid/);
    assert.equal(opens, 1 + 18, "step 4's token, then 18 chains");
  });

  it('tries nothing more for a lone cookie, or one of another name', () => {
    assert.equal(refusal('s=junk'), 'invalid: token of 4 bytes is too short to be valid');
    assert.equal(refusal(`s=junk; S=${genuine.slice(2)}; s.01=${genuine.slice(2)}`), 'invalid: token of 4 bytes is too short to be valid');
    assert.equal(refusal(`s=${genuine.slice(2, -4)}AAAA; t=${genuine.slice(2)}`), 'invalid: authentication failed');
  });
});

// The README's re-seal at the edge, run as documented: an origin's
// cacheable answer, with the user's Set-Cookie added, must not be kept by a
// shared cache for the next user, as Go's Manager makes sure of its own.
describe("the README's re-seal at the edge", () => {
  it('makes a cacheable answer no-store, and varies on Cookie', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('To change the session at the edge'));
    const start = section.indexOf('```js\n') + 6;
    const AsyncFunction = (async () => {}).constructor;
    const snippet = new AsyncFunction('request', 'record', 'cookies', 'fetch', section.slice(start, section.indexOf('```', start)));
    const rows = [
      ['public, max-age=300', 'no-store'], [null, 'no-store'], ['private="Set-Cookie", max-age=60', 'no-store'],
      ['public, no-cache="Foo, private, Bar"', 'no-store'], ['private', 'no-store'],
    ];
    for (const [cacheControl, want] of rows) {
      const cookies = new SessionCookies(ring, { name: 's' });
      const header = cookies.seal({ values: new Values().set('theme', 'light') }, new Date())[0].split(';')[0];
      const request = new Request('https://example.com/', { headers: { Cookie: header } });
      const origin = async () => new Response('page', { headers: cacheControl === null ? {} : { 'Cache-Control': cacheControl } });
      const out = await snippet(request, cookies.open(header), cookies, origin);
      assert.equal(out.headers.getSetCookie().length, 1, String(cacheControl));
      assert.equal(out.headers.get('Cache-Control'), want, String(cacheControl));
      assert.match(out.headers.get('Vary'), /\bCookie\b/, String(cacheControl));
    }
  });

  it("does not undo the origin's logout, and forwards the edge's change to the origin", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('To change the session at the edge'));
    const start = section.indexOf('```js\n') + 6;
    const AsyncFunction = (async () => {}).constructor;
    const snippet = new AsyncFunction('request', 'record', 'cookies', 'fetch', section.slice(start, section.indexOf('```', start)));
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3, maxCookieSize: 200 });
    const sent = cookies.seal({ values: new Values().set('theme', 'light').set('pad', 'x'.repeat(200)) }, new Date()).map((line) => line.split(';')[0]);
    assert.equal(sent.length, 3);
    const header = ['csrf=abc', ...sent, 'x=1'].join('; ');
    // An origin that reads the session it is sent, then logs out (Go's
    // Destroy writes the lines clear gives: see 'clears the chunks with the
    // lines Go writes, byte for byte' in interop.test.js), or changes nothing.
    for (const logout of [true, false]) {
      let seen;
      const origin = async (req) => {
        seen = req.headers.get('Cookie');
        const headers = new Headers({ 'Set-Cookie': 'csrf=def; Path=/' });
        if (logout) for (const line of cookies.clear(cookies.chunksSent(seen))) headers.append('Set-Cookie', line);
        return new Response('page', { headers });
      };
      const out = await snippet(new Request('https://example.com/', { headers: { Cookie: header } }), cookies.open(header), cookies, origin);
      assert.equal(cookies.open(seen).values.get('theme'), 'dark', 'the origin reads the edge\'s change');
      assert.match(seen, /^s=[^;]+; s\.1=[^;]+; csrf=abc; x=1$/, 'the chunks the edge wrote (two now, where three were sent), the other cookies kept');
      const lines = out.headers.getSetCookie();
      assert.equal(lines[0], 'csrf=def; Path=/');
      if (logout) assert.deepEqual(lines.slice(1), cookies.clear(3), "the logout is the last word, then the edge's expiry of the chunk it left");
      else assert.equal(cookies.open(lines.slice(1).filter((l) => !l.includes('; Max-Age=0')).map((l) => l.split(';')[0]).join('; ')).values.get('theme'), 'dark');
    }
    const edge = cookies.seal({ values: new Values().set('pad', 'x'.repeat(200)) }, new Date(), 3); // two chunks, then s.2 expired
    assert.deepEqual(cookies.merge(['csrf=1; Path=/', 'ss=1', 'S=1', 's.3=x'], edge), edge, 'no line of the session: all of the edge\'s');
    assert.deepEqual(cookies.merge(undefined, edge), edge);
    assert.deepEqual(cookies.merge(['csrf=1', ...cookies.clear(2)], edge), edge.slice(2), "the origin's logout, and the edge's expiry of the chunk it left");
    assert.deepEqual(cookies.merge([' s.1 =x; Path=/', ' s.2 =; Path=/; Max-Age=0'], edge), []);
    const joined = new Headers([['Set-Cookie', 'csrf=1'], ['Set-Cookie', 's=; Max-Age=0']]);
    assert.throws(() => cookies.merge(joined.get('set-cookie'), edge), /merge\(originLines, lines\) takes the origin's Set-Cookie lines, such as response.headers.getSetCookie\(\)/);
    assert.throws(() => cookies.merge([], edge.join('\n')), /merge\(originLines, lines\) takes the lines seal or clear gave/);
    assert.throws(() => cookies.forward(header, lines0()), /forward\(cookieHeader, lines\) takes the lines seal or clear gave/);
    assert.throws(() => cookies.forward(new Headers({ cookie: header }), []), /give the Cookie header's text/);
    assert.equal(cookies.forward(header, cookies.clear(3)), 'csrf=abc; x=1');
    assert.equal(cookies.forward(header, []), header, 'nothing to write (refresh gave []): the session as sent');
    assert.equal(cookies.forward(null, cookies.seal({}, new Date())).split('; ').length, 1);
    function lines0() { return cookies.seal({}, new Date()).join('\n'); }
  });

  // A Next.js proxy's response.cookies is new ResponseCookies(response.headers)
  // (next/dist/server/web/spec-extension/response.js), from the copy of
  // @edge-runtime/cookies 6.0.0 that Next.js 16.4.6 compiles in.
  it('keeps, in a Next.js proxy, only the lines appended after response.cookies.set', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3, maxCookieSize: 200 });
    const grown = cookies.seal({ values: new Values().set('pad', 'x'.repeat(200)) }, now);
    const lines = cookies.seal({}, now, cookies.chunksSent(grown.map((line) => line.split(';')[0]).join('; ')));
    assert.equal(lines.length, 3);
    assert.equal(lines.filter((line) => line.includes('Max-Age=0')).length, 2);

    const after = new Headers();
    new ResponseCookies(after).set('csrf', 'c1');
    for (const line of lines) after.append('Set-Cookie', line);
    assert.deepEqual(after.getSetCookie(), ['csrf=c1; Path=/', ...lines]);

    const before = new Headers();
    const jar = new ResponseCookies(before);
    for (const line of lines) before.append('Set-Cookie', line);
    jar.set('csrf', 'c1');
    assert.deepEqual(before.getSetCookie(), ['csrf=c1; Path=/']);

    const deleted = new Headers();
    const other = new ResponseCookies(deleted);
    for (const line of lines) deleted.append('Set-Cookie', line);
    other.delete('csrf');
    assert.deepEqual(deleted.getSetCookie().map((line) => line.split('=')[0]), ['csrf']);

    // A chunk the lines clear stays in the browser, empty: neither Max-Age
    // nor Expires is left to end it.
    const built = new Headers(lines.map((line) => ['Set-Cookie', line]));
    new ResponseCookies(built).set('csrf', 'c1');
    const chunks = built.getSetCookie().filter((line) => line.startsWith('s.'));
    assert.equal(chunks.length, 2);
    for (const line of chunks) {
      assert.match(line, /^s\.\d=;/);
      assert.doesNotMatch(line, /Max-Age|Expires/i);
    }
  });

  // README: append each line; set() in a loop, or the array in a Headers
  // init, leaves one line. And Node's Headers, unlike Deno's, joins two
  // appended cookie values with "; ", which open reads as two cookies.
  it('loses lines with set() in a loop or the array in a Headers init, not with append()', () => {
    const cookies = new SessionCookies(ring, { name: 's', maxChunks: 3, maxCookieSize: 200 });
    const lines = cookies.seal({ values: new Values().set('pad', 'x'.repeat(200)) }, now);
    assert.equal(lines.length, 3, 'two chunks, and the third expired');
    const appended = new Headers();
    for (const line of lines) appended.append('Set-Cookie', line);
    assert.deepEqual(appended.getSetCookie(), lines);
    const set = new Headers();
    for (const line of lines) set.set('Set-Cookie', line);
    assert.deepEqual(set.getSetCookie(), [lines[2]]);
    assert.deepEqual(new Headers({ 'Set-Cookie': lines }).getSetCookie(), [lines.join(',')], 'one broken line');

    const request = new Headers();
    request.append('Cookie', 'csrf=c1');
    const sent = lines.slice(0, 2).map((line) => line.split(';')[0]).join('; ');
    request.append('Cookie', sent);
    assert.equal(request.get('Cookie'), `csrf=c1; ${sent}`);
    assert.equal(cookies.open(request.get('Cookie'), now).values.get('pad'), 'x'.repeat(200));
  });

  // README's express snippet for a request that only reads the session,
  // run with a response that records what express would be asked to do.
  it('refreshes in express only when a refresh is due, and varies on Cookie either way', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('A request that only reads the session still owes'));
    const start = section.indexOf('```js\n') + 6;
    const snippet = new Function('req', 'res', 'cookies', section.slice(start, section.indexOf('```', start)));
    const cookies = new SessionCookies(ring, { name: 's', maxAge: 7200, idleTimeout: 1800 });
    const sealedAt = new Date(Date.now() - 1000 * 1000); // past half of the idle window
    const due = cookies.seal({ values: new Values().set('u', 'ann') }, sealedAt)[0].split(';')[0];
    const fresh = cookies.seal({ values: new Values().set('u', 'ann') }, new Date())[0].split(';')[0];
    const run = (cookie) => {
      const calls = [];
      const res = { append: (...a) => calls.push(['append', ...a]), set: (...a) => calls.push(['set', ...a]), vary: (...a) => calls.push(['vary', ...a]) };
      snippet({ headers: cookie === undefined ? {} : { cookie } }, res, cookies);
      return calls;
    };
    const refreshed = run(due);
    assert.deepEqual(refreshed.map(([what, field]) => [what, field]), [['append', 'Set-Cookie'], ['set', 'Cache-Control'], ['vary', 'Cookie']]);
    assert.equal(refreshed[1][2], 'no-store');
    const [line] = refreshed[0][2];
    assert.equal(cookies.open(line.split(';')[0]).values.get('u'), 'ann');
    assert.ok(cookies.open(line.split(';')[0]).expires > cookies.open(due).expires, 'a new deadline');
    assert.deepEqual(run(fresh), [['vary', 'Cookie']]);
    assert.deepEqual(run(undefined), [['vary', 'Cookie']]);
  });

  it("keeps, in Node, the Set-Cookie lines another middleware wrote", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const [, method] = /in Node, `res\.(\w+)\('Set-Cookie', lines\)`/.exec(readme);
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    res.setHeader('Set-Cookie', 'csrf=t0k3n; Path=/; Secure');
    const lines = new SessionCookies(ring, { name: 's', maxChunks: 2, maxCookieSize: 200 }).seal({}, now);
    res[method]('Set-Cookie', lines);
    assert.deepEqual(res.getHeader('Set-Cookie'), ['csrf=t0k3n; Path=/; Secure', ...lines], method);
  });
});

// README's Next.js proxy, compiled from its TypeScript by esbuild as Next.js
// would, against a next/server that records what the proxy answers.
describe("the README's Next.js proxy", () => {
  it('passes a session with a user_id on with x-user-id, and redirects the rest to /login', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('In a Next.js proxy (`proxy.ts`'));
    const start = section.indexOf('```ts\n') + 6;
    const nextServer = `export const NextResponse = {
      redirect: (url) => ({ redirect: String(url) }),
      next: ({ request }) => ({ next: request.headers.get('x-user-id') }),
    };`;
    const bundle = await build({
      stdin: { contents: section.slice(start, section.indexOf('```', start)), resolveDir: jsDir, loader: 'ts' },
      alias: { cookiesession: join(jsDir, 'src', 'index.js') },
      plugins: [{ name: 'next', setup: (b) => {
        b.onResolve({ filter: /^next\/server$/ }, () => ({ path: 'next/server', namespace: 'next' }));
        b.onLoad({ filter: /.*/, namespace: 'next' }, () => ({ contents: nextServer, loader: 'js' }));
      } }],
      bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent',
    });
    const keys = process.env.COOKIESESSION_KEYS;
    process.env.COOKIESESSION_KEYS = ringText([{ id: 7, secret: new Uint8Array(32).fill(9) }]);
    let proxy, config;
    try {
      ({ proxy, config } = await import(`data:text/javascript,${encodeURIComponent(bundle.outputFiles[0].text)}`));
    } finally {
      if (keys === undefined) delete process.env.COOKIESESSION_KEYS;
      else process.env.COOKIESESSION_KEYS = keys;
    }
    assert.deepEqual(config, { matcher: '/account/:path*' });
    const cookies = new SessionCookies(ring, { name: 'session' });
    const cookie = (values) => cookies.seal({ values }, new Date())[0].split(';')[0];
    const ask = (header) => proxy(new Request('https://example.com/account/a', { headers: header === null ? {} : { cookie: header } }));
    assert.deepEqual(ask(cookie(new Values().set('user_id', 'u_8f3a2c'))), { next: 'u_8f3a2c' });
    const login = { redirect: 'https://example.com/login' };
    assert.deepEqual(ask(cookie(new Values().set('user_id', 42))), login, 'a user_id that is not a string');
    assert.deepEqual(ask(cookie(new Values())), login, 'no user_id');
    assert.deepEqual(ask(null), login, 'no cookie');
    assert.deepEqual(ask(`${cookie(new Values().set('user_id', 'u_8f3a2c')).slice(0, -4)}AAAA`), login, 'tampered');
  });
});

describe('from CommonJS', () => {
  it('require() gives the module import gives, so src has no top-level await, which require() cannot load', () => {
    // Node 20.19+, 22.12+ and 24 load an ES module with require(); an express
    // app in CommonJS does so.
    const required = createRequire(import.meta.url)('../src/index.js');
    assert.equal(required.SessionCookies, SessionCookies);
    assert.equal(required.parseKeyRing, parseKeyRing);
  });
});
