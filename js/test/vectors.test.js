// Every vector of ../testdata/vectors.json: each valid one seals to its
// token and opens to its values; each must-fail one is refused with its
// class and the Go implementation's reason; each cookie vector's Cookie
// header opens its session or is refused with its class; each key-ring
// text parses to its keys, or is refused by its rule; each seal vector
// gives its created, expires and Max-Age.

import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Codec, GoTime, parseKeyRing, SessionCookies, SessionError, Values } from '../src/index.js';
import { hex, readVectors, ringText, toWire, unhex } from './helpers.js';

const vectors = readVectors();

function codecFor(v) {
  const ring = parseKeyRing(ringText([{ id: parseInt(v.key_id, 16), secret: unhex(v.key) }]));
  return new Codec(ring, {
    name: v.name, maxAge: v.max_age_seconds,
    ...(v.max_lifetime_seconds ? { maxLifetime: v.max_lifetime_seconds } : {}),
    ...(v.max_token_len ? { maxTokenLen: v.max_token_len } : {}),
  });
}

// lifetimeOf gives a vector's lifetime in the JS form: null for version 1.
function lifetimeOf(v) {
  if (v.lifetime === undefined) return null;
  return { maxAge: v.lifetime.max_age_seconds, idleTimeout: v.lifetime.idle_seconds, browserSession: v.lifetime.browser_session };
}

// The plaintext header: created, expires and id, then version 2's lifetime.
const headerHex = (v) => (v.lifetime === undefined ? 64 : 64 + 18);

// vectorValues builds Values from the vectors' rendering (see its comment).
function vectorValues(list) {
  const values = new Values();
  for (const { key, type, value, hex: bytes, bits } of list) {
    let x = value;
    if (bytes !== undefined) x = unhex(bytes);
    else if (bits !== undefined) x = unhex(bits);
    else if (type === 'time.Time') x = new GoTime(BigInt(value.unix), value.nsec, value.offset);
    else if (type === 'map[string]string') x = new Map(Object.entries(value));
    else if (typeof value === 'string') x = BigInt(value);
    values.set(key, x, type);
  }
  return values;
}

describe('valid vectors', () => {
  assert.ok(vectors.valid.length >= 13);
  assert.ok(vectors.valid.filter((v) => v.lifetime !== undefined).length >= 2, 'version 2 vectors');
  for (const v of vectors.valid) {
    it(`${v.case}: seals to the token and opens to the values`, () => {
      const codec = codecFor(v);
      const values = vectorValues(v.values);
      assert.equal(hex(values.encode()), v.plaintext.slice(headerHex(v)), 'values section');

      // A deadline past created + the MaxAge that applies (expires_at_limit)
      // is one only a record open gave carries: seal refuses it in a new one.
      const keyId = parseInt(v.key_id, 16);
      const record = { id: unhex(v.id), created: BigInt(v.created), expires: BigInt(v.expires), lifetime: lifetimeOf(v), values };
      if (record.expires > record.created + BigInt(v.lifetime?.max_age_seconds || v.max_age_seconds)) {
        assert.throws(() => codec.seal({ ...record }, new Date(v.now * 1000)), /^RangeError: cookiesession: record\.expires .* when open ends the token/);
        record.keyId = keyId;
      }
      const nonce = unhex(v.nonce);
      const stub = mock.method(crypto, 'getRandomValues', (buf) => {
        assert.equal(buf.length, nonce.length, 'only the nonce is drawn');
        buf.set(nonce);
        return buf;
      });
      try {
        assert.equal(codec.seal(record, new Date(v.now * 1000)), v.token);
      } finally {
        stub.mock.restore();
      }
      assert.equal(record.keyId, keyId);

      const opened = codec.open(v.token, new Date(v.now * 1000));
      assert.equal(hex(opened.id), v.id);
      assert.equal(opened.created, BigInt(v.created));
      assert.equal(opened.expires, BigInt(v.expires));
      assert.equal(opened.keyId, parseInt(v.key_id, 16));
      assert.deepEqual(opened.lifetime, lifetimeOf(v));
      assert.deepEqual(opened.values.keys().map((k) => (typeof k === 'string' ? k : hex(k))), v.values.map((x) => x.key));
      assert.deepEqual(opened.values.entries().map(([, t]) => t.type), v.values.map((x) => x.type));
      assert.deepEqual(toWire(opened.values), toWire(values));
      assert.equal(hex(opened.values.encode()), v.plaintext.slice(headerHex(v)), 're-encoding gives the same bytes');

      // The deadline is exclusive: at the earlier of expires and created +
      // the MaxAge in force (its own, bounded by maxLifetime), it has expired.
      const maxAge = Math.min(v.lifetime?.max_age_seconds || v.max_age_seconds, v.max_lifetime_seconds ?? v.max_age_seconds);
      const deadline = Math.min(v.expires, v.created + maxAge);
      assert.throws(() => codec.open(v.token, new Date(deadline * 1000)), (err) => err.kind === 'expired');
      assert.doesNotThrow(() => codec.open(v.token, new Date(deadline * 1000 - 1)));
    });
  }
});

describe('must-fail vectors', () => {
  assert.ok(vectors.must_fail.length >= 65);
  assert.ok(vectors.must_fail.filter((v) => v.case.startsWith('v2_')).length >= 5, 'version 2 vectors');
  for (const v of vectors.must_fail) {
    it(`${v.case}: refused as ${v.error}`, () => {
      const codec = codecFor(v);
      assert.throws(
        () => codec.open(v.token, new Date(v.now * 1000)),
        (err) => {
          assert.ok(err instanceof SessionError, String(err));
          assert.equal(err.kind, v.error);
          assert.ok(err.reason.includes(v.reason), `reason ${JSON.stringify(err.reason)} lacks ${JSON.stringify(v.reason)}`);
          return true;
        },
      );
    });
  }
});

describe('cookie vectors', () => {
  assert.ok(vectors.cookies.length >= 14);
  for (const v of vectors.cookies) {
    it(`${v.case}: ${v.id ? 'opens the session' : `refused as ${v.error}`}`, () => {
      const ring = parseKeyRing(ringText([{ id: parseInt(v.key_id, 16), secret: unhex(v.key) }]));
      const cookies = new SessionCookies(ring, {
        name: v.name, maxAge: v.max_age_seconds, maxChunks: v.max_chunks, maxCookieSize: v.max_cookie_size,
      });
      const open = () => cookies.open(v.cookie, new Date(v.now * 1000));
      if (v.id) {
        assert.equal(hex(open().id), v.id);
        return;
      }
      assert.throws(open, (err) => {
        assert.ok(err instanceof SessionError, String(err));
        assert.equal(err.kind, v.error);
        assert.equal(err.keepCookie, v.keep === true, 'the cookies are left as they are');
        return true;
      });
    });
  }
});

// ringClass names the rule of FORMAT.md section 6 that a message refuses a
// ring's text by, as vecRingClass in ../vectors_keyring_test.go.
function ringClass(msg) {
  if (msg.includes('holds the key ring') || msg.includes('not a key ring') || msg.includes('member')) return 'json';
  if (msg.includes('promote_at')) return 'promote_at';
  if (msg.includes('secret')) return 'secret';
  if (msg.includes('version')) return 'version';
  if (msg.includes('duplicate key id') || msg.includes('keys is not') || msg.includes(' keys')) return 'keys';
  if (msg.includes('key id')) return 'id';
  if (msg.includes('primary')) return 'primary';
  return 'json';
}

// dateOf is now plus nsec as a Date, which holds milliseconds only.
function dateOf(now, nsec) {
  assert.equal(nsec % 1_000_000, 0, 'now_nsec is whole milliseconds');
  return new Date(now * 1000 + nsec / 1_000_000);
}

describe('key ring vectors', () => {
  assert.ok(vectors.keyring.filter((v) => v.error === undefined).length >= 8);
  assert.ok(vectors.keyring.filter((v) => v.error !== undefined).length >= 30);
  for (const v of vectors.keyring) {
    if (v.error !== undefined) {
      it(`${v.case}: refused by ${v.error}`, () => {
        assert.throws(() => parseKeyRing(v.text), (err) => {
          assert.ok(err.message.includes(v.reason), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(v.reason)}`);
          assert.equal(ringClass(err.message), v.error, err.message);
          return true;
        });
      });
      continue;
    }
    it(`${v.case}: parses to its keys`, async () => {
      const ring = parseKeyRing(v.text);
      assert.deepEqual(ring.ids, v.keys.map((k) => parseInt(k.id, 16)));
      for (const k of v.keys) {
        const id = parseInt(k.id, 16);
        assert.equal(hex(ring.secret(id)), k.secret, `secret of ${k.id}`);
        assert.match(k.fingerprint, /^[0-9a-f]{12}$/, `vector fingerprint of ${k.id}`);
        assert.equal(await ring.fingerprint(id), k.fingerprint, `fingerprint of ${k.id}`);
        assert.equal(ring.promoteAt(id), k.promote_at_unix_nano === undefined ? null : BigInt(k.promote_at_unix_nano), `promote_at of ${k.id}`);
      }
      assert.equal(ring.primaryAt(new Date(-1)), parseInt(v.primary, 16), 'primary before any promotion');
      for (const s of v.seals) {
        assert.equal(ring.primaryAt(dateOf(s.now, s.now_nsec)), parseInt(s.key_id, 16), `at ${s.now}.${s.now_nsec}`);
      }
    });
  }
});

describe('seal vectors', () => {
  assert.ok(vectors.seal.filter((v) => v.now_nsec !== 0).length >= 8);
  for (const v of vectors.seal) {
    it(`${v.case}: created ${v.created}, expires ${v.expires}, Max-Age ${v.cookie_max_age}`, () => {
      const ring = parseKeyRing(ringText([{ id: parseInt(v.key_id, 16), secret: unhex(v.key) }]));
      const options = {
        name: v.name, maxAge: v.max_age_seconds,
        ...(v.idle_timeout_seconds ? { idleTimeout: v.idle_timeout_seconds } : {}),
        ...(v.max_lifetime_seconds ? { maxLifetime: v.max_lifetime_seconds } : {}),
      };
      const now = dateOf(v.now, v.now_nsec);
      // An existing session is an opened record (keyId set), which seal
      // cuts to maxLifetime as Go does (lifetime_cut); a new one's lifetime
      // over maxLifetime it refuses.
      const record = () => ({
        ...(v.session_created === undefined ? {} : { created: BigInt(v.session_created), keyId: parseInt(v.key_id, 16) }),
        lifetime: lifetimeOf(v), values: new Values().set('a', 'b'),
      });

      const sealed = record();
      new Codec(ring, options).seal(sealed, now);
      assert.equal(sealed.created, BigInt(v.created), 'Codec: created');
      assert.equal(sealed.expires, BigInt(v.expires), 'Codec: expires');

      // An existing session is the one its cookie opens to, sealed a second
      // before now, as the Go check loads it.
      const cookies = new SessionCookies(ring, { ...options, ...(v.browser_session ? { browserSession: true } : {}) });
      let written = record();
      if (v.session_created !== undefined) {
        const token = cookies.codec.seal(record(), new Date((v.now - 1) * 1000));
        written = cookies.open(`${v.name}=${token}`, now);
        written.values.set('a', 'b');
        written.expires = undefined; // a change recomputes the deadline (README)
      }
      const [line] = cookies.seal(written, now);
      assert.equal(written.created, BigInt(v.created), 'SessionCookies: created');
      assert.equal(written.expires, BigInt(v.expires), 'SessionCookies: expires');
      const maxAge = /; Max-Age=(\d+)/.exec(line);
      assert.equal(maxAge === null ? null : Number(maxAge[1]), v.cookie_max_age, line);
    });
  }
});

describe('vector details a port must keep', () => {
  const byCase = Object.fromEntries(vectors.valid.map((v) => [v.case, v]));
  const open = (name) => codecFor(byCase[name]).open(byCase[name].token, new Date(byCase[name].now * 1000)).values;

  it('keeps NaN payloads, -0 and subnormals by their bits', () => {
    const values = open('floats');
    assert.equal(hex(values.getTyped('f32_nan').bits), '7fc00001');
    assert.equal(hex(values.getTyped('f64_nan').bits), '7ff8000000000001');
    assert.ok(Object.is(values.get('f64_neg_zero'), -0));
    assert.equal(values.get('f64_subnormal'), 5e-324);
  });

  it('gives 64-bit integers as BigInt and the small ones as numbers', () => {
    const values = open('every_tag_high');
    assert.equal(values.get('uint64'), 2n ** 64n - 1n);
    assert.equal(values.get('int'), 2n ** 63n - 1n);
    assert.equal(values.get('time.Duration'), undefined);
    assert.equal(values.get('duration'), 2n ** 63n - 1n);
    assert.equal(values.get('int8'), 127);
    assert.equal(values.get('uint32'), 4294967295);
    assert.deepEqual(values.getJSON('json'), { n: [1, 2.5, 'x'], ok: true, s: '<&>' });
    assert.equal(values.get('time').toString(), '2026-07-14T23:59:59.999999999+10:00');
  });

  it('gives a string that is not UTF-8 as its bytes', () => {
    const values = open('strings');
    assert.deepEqual(values.get('invalid_utf8'), unhex('fffefd'));
    assert.equal(values.get('émoji'), 'then bytes >= 0x80');
  });
});
