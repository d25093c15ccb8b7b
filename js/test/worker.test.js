// The package in a real edge runtime: a Worker bundled by esbuild runs in
// workerd (through miniflare), reads a cookie a Go Manager issued, answers
// with its values, and re-seals a cookie that Go reads back. Outside CI the
// test is skipped if workerd cannot start; in CI (CI set to anything, as the
// Go tests read it) that fails it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { parseKeyRing } from '../src/index.js';
import { goInterop, jsDir, normal, repoRoot, ringText } from './helpers.js';

const enc = (s) => Buffer.from(s).toString('hex');
const key = { id: 0x0badcafe, secret: Uint8Array.from({ length: 32 }, (_, i) => i * 7) };
const ring = ringText([key]);
const NOW = 1767225600;
const NAME = '__Host-session';

const stored = [
  { key: enc('user_id'), type: 'string', hex: enc('u_8f3a2c') },
  { key: enc('role'), type: 'string', hex: enc('admin') },
  { key: enc('uid'), type: 'uint64', value: String(2n ** 64n - 1n) },
  { key: enc('visits'), type: 'int32', value: '41' },
  { key: enc('since'), type: 'time.Time', unix: '1767139200', nsec: 123456789, offset: 19800 },
  { key: enc('ratio'), type: 'float32', bits: '7fc00001' },
  { key: enc('scopes'), type: '[]string', list: [enc('read'), enc('write')] },
  { key: enc('avatar'), type: '[]byte', hex: enc('x'.repeat(3000)) }, // forces a second chunk
];

describe('in workerd', () => {
  let mf;
  let readmeWorker;
  let startError;

  before(async () => {
    const bundle = await build({
      entryPoints: [join(jsDir, 'test', 'worker', 'worker.js')],
      bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent',
    });
    try {
      mf = new Miniflare({
        modules: true,
        script: bundle.outputFiles[0].text,
        compatibilityDate: '2026-04-01',
        bindings: { COOKIESESSION_KEYS: ring, COOKIE_NAME: NAME, NOW: String(NOW) },
      });
      await mf.ready;
      readmeWorker = new Miniflare({
        modules: true,
        script: await readmeSnippet(),
        compatibilityDate: '2026-04-01',
        bindings: { COOKIESESSION_KEYS: ring },
        outboundService: () => new Response('from the origin'),
      });
      await readmeWorker.ready;
    } catch (err) {
      startError = err;
    }
  });

  after(async () => {
    await mf?.dispose();
    await readmeWorker?.dispose();
  });

  const requireWorkerd = (t) => {
    if (startError === undefined) return true;
    if (process.env.CI) throw new Error(`workerd did not start: ${startError.stack ?? startError}`);
    t.skip(`workerd did not start: ${startError.message}`);
    return false;
  };

  const goCookies = (op, extra) =>
    goInterop([{ op, ring, name: NAME, now: NOW, max_age: 86400, max_chunks: 4, max_cookie_size: 4096, ...extra }])[0];
  // The lines a browser keeps: a token over several cookies also expires
  // every higher chunk (FORMAT.md section 5).
  const live = (setCookies) => setCookies.filter((line) => !line.includes('; Max-Age=0'));
  const cookieHeader = (setCookies) => live(setCookies).map((line) => line.split(';')[0]).join('; ');

  it('a Worker reads the session a Go Manager issued', async (t) => {
    if (!requireWorkerd(t)) return;
    const issued = goCookies('manager_seal', { values: stored });
    assert.equal(live(issued.set_cookie).length, 2, 'the session spans two chunks');
    const res = await mf.dispatchFetch('https://example.com/', { headers: { Cookie: cookieHeader(issued.set_cookie) } });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.has_buffer, false, 'the Worker runs without Node APIs');
    assert.equal(body.key_id, key.id);
    assert.equal(body.fingerprint, await parseKeyRing(ring).fingerprint(key.id), "the key's fingerprint, from WebCrypto's SHA-256");
    assert.deepEqual(normal(body.values), normal([...stored].sort((a, b) => (a.key < b.key ? -1 : 1))));
  });

  it('a Worker refuses a tampered cookie with the reason', async (t) => {
    if (!requireWorkerd(t)) return;
    const issued = goCookies('manager_seal', { values: stored.slice(0, 2) });
    const line = issued.set_cookie[0].split(';')[0];
    const i = NAME.length + 60; // inside the nonce
    const tampered = line.slice(0, i) + (line[i] === 'A' ? 'B' : 'A') + line.slice(i + 1);
    const res = await mf.dispatchFetch('https://example.com/', { headers: { Cookie: tampered } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid', reason: 'authentication failed' });
  });

  it('a cookie the Worker re-seals opens in Go with the Go types', async (t) => {
    if (!requireWorkerd(t)) return;
    const issued = goCookies('manager_seal', { values: stored });
    const res = await mf.dispatchFetch('https://example.com/?set=edge', { headers: { Cookie: cookieHeader(issued.set_cookie) } });
    assert.equal(res.status, 200);
    const setCookies = res.headers.getSetCookie();
    assert.equal(live(setCookies).length, 2);
    const opened = goCookies('manager_open', { cookie: cookieHeader(setCookies) });
    assert.equal(opened.error, undefined, opened.reason);
    const expected = stored
      .map((v) => (v.type === 'int32' ? { ...v, value: '42' } : v))
      .concat({ key: enc('from_worker'), type: 'string', hex: enc('edge') })
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.deepEqual(normal(opened.values), normal(expected));
  });

  it('a Worker keeps the lifetime of a Go session, and so its browser-session cookie', async (t) => {
    if (!requireWorkerd(t)) return;
    const lifetime = { max_age: 0, idle: 1800, browser_session: true };
    const issued = goCookies('manager_seal', { values: stored.slice(0, 2), lifetime });
    assert.doesNotMatch(issued.set_cookie[0], /Max-Age/);
    const res = await mf.dispatchFetch('https://example.com/?set=edge', { headers: { Cookie: cookieHeader(issued.set_cookie) } });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.lifetime, { maxAge: 0, idleTimeout: 1800, browserSession: true });
    const [line] = res.headers.getSetCookie();
    assert.doesNotMatch(line, /Max-Age/);
    const opened = goCookies('manager_open', { cookie: cookieHeader([line]) });
    assert.equal(opened.error, undefined, opened.reason);
    assert.equal(opened.expires, NOW + 1800, 'the idle timeout of its own');
  });

  it('lets an admin through to the origin and turns others away', async (t) => {
    if (!requireWorkerd(t)) return;
    const seal = (role) =>
      goInterop([{ op: 'manager_seal', ring, name: 'session', now: Math.floor(Date.now() / 1000), max_age: 86400, max_chunks: 1, max_cookie_size: 4096,
        values: [{ key: enc('role'), type: 'string', hex: enc(role) }] }])[0].set_cookie[0].split(';')[0];
    const ask = async (cookie) => {
      const res = await readmeWorker.dispatchFetch('https://example.com/admin', { headers: cookie ? { Cookie: cookie } : {} });
      return [res.status, await res.text()];
    };
    assert.deepEqual(await ask(seal('admin')), [200, 'from the origin']);
    assert.deepEqual(await ask(seal('user')), [403, 'forbidden']);
    assert.deepEqual(await ask(''), [403, 'forbidden']);
    assert.deepEqual(await ask('session=AAAA'), [403, 'forbidden']);
  });
});

// readmeSnippet bundles the README's Cloudflare Worker, so the documented
// code is the code that runs.
async function readmeSnippet() {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Reading the session at the edge'));
  const code = section.slice(section.indexOf('```js\n') + 6, section.indexOf('```', section.indexOf('```js\n') + 6));
  const bundle = await build({
    stdin: { contents: code, resolveDir: jsDir, loader: 'js' },
    alias: { cookiesession: join(jsDir, 'src', 'index.js') },
    bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent',
  });
  return bundle.outputFiles[0].text;
}

