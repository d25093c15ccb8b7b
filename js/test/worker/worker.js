// A Cloudflare Worker that reads the session cookie issued by the Go
// package and answers with its values in the interop program's lossless
// form; with ?set=<text> it also stores a value and re-seals the cookie.
// It is bundled by esbuild and run in workerd: nothing here may need Node.

import { parseKeyRing, SessionCookies } from '../../src/index.js';

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const bytesOf = (s) => (s instanceof Uint8Array ? s : new TextEncoder().encode(s));

function render([key, { type, value, bits }]) {
  const v = { key: hex(bytesOf(key)), type };
  if (['string', '[]byte', 'json.RawMessage'].includes(type)) v.hex = hex(bytesOf(value));
  else if (type === 'float32' || type === 'float64') v.bits = hex(bits);
  else if (type === 'time.Time') Object.assign(v, { unix: String(value.unix), nsec: value.nsec, offset: value.offset });
  else if (type === '[]string') v.list = value.map((s) => hex(bytesOf(s)));
  else if (type === 'map[string]string') v.map = [...value].map(([k, s]) => [hex(bytesOf(k)), hex(bytesOf(s))]).sort();
  else if (type !== 'nil') v.value = String(value);
  return v;
}

export default {
  async fetch(request, env) {
    const ring = parseKeyRing(env.COOKIESESSION_KEYS);
    const cookies = new SessionCookies(ring, { name: env.COOKIE_NAME, maxChunks: 4 });
    const now = new Date(Number(env.NOW) * 1000);
    const header = request.headers.get('Cookie');
    let record;
    try {
      record = cookies.open(header, now);
    } catch (err) {
      return Response.json({ error: err.kind, reason: err.reason }, { status: 401 });
    }
    if (record === null) return Response.json({ error: 'none' }, { status: 401 });
    const headers = new Headers({ 'Content-Type': 'application/json' });
    const set = new URL(request.url).searchParams.get('set');
    if (set !== null) {
      record.values.set('from_worker', set);
      record.values.set('visits', 1 + Number(record.values.get('visits') ?? 0), 'int32');
      delete record.expires; // a change recomputes the deadline, as in Go
      for (const line of cookies.seal(record, now, cookies.chunksSent(header))) headers.append('Set-Cookie', line);
    }
    const body = { id: hex(record.id), key_id: record.keyId, fingerprint: await ring.fingerprint(record.keyId), lifetime: record.lifetime, has_buffer: typeof globalThis.Buffer !== 'undefined', values: record.values.entries().map(render) };
    return new Response(JSON.stringify(body), { headers });
  },
};
