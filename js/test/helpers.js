// Shared test helpers: the vectors file, key rings, the lossless value
// rendering shared with the Go interop program, and running that program.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoTime, Values } from '../src/index.js';

export const jsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(jsDir, '..');

export function readVectors() {
  return JSON.parse(readFileSync(join(repoRoot, 'testdata', 'vectors.json'), 'utf8'));
}

export const hex = (bytes) => Buffer.from(bytes).toString('hex');
export const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const bytesOf = (s) => (s instanceof Uint8Array ? s : new TextEncoder().encode(s));

/** The text form of a ring holding keys [{id (number), secret (bytes), promoteAt?}], the first primary. */
export function ringText(keys) {
  return JSON.stringify({
    version: 1,
    primary: keys[0].id.toString(16).padStart(8, '0'),
    keys: keys.map((k) => ({
      id: k.id.toString(16).padStart(8, '0'),
      secret: Buffer.from(k.secret).toString('base64'),
      ...(k.promoteAt ? { promote_at: k.promoteAt } : {}),
    })),
  });
}

/** Renders Values in the interop program's lossless form, in wire order. */
export function toWire(values) {
  return values.entries().map(([key, { type, value, bits }]) => {
    const v = { key: hex(bytesOf(key)), type };
    if (['string', '[]byte', 'json.RawMessage'].includes(type)) v.hex = hex(bytesOf(value));
    else if (type === 'float32' || type === 'float64') v.bits = hex(bits);
    else if (type === 'time.Time') Object.assign(v, { unix: String(value.unix), nsec: value.nsec, offset: value.offset });
    else if (type === '[]string') v.list = value.map((s) => hex(bytesOf(s)));
    else if (type === 'map[string]string') v.map = [...value].map(([k, s]) => [hex(bytesOf(k)), hex(bytesOf(s))]).sort();
    else if (type !== 'nil') v.value = String(value);
    return v;
  });
}

/** Builds Values from the lossless form. */
export function fromWire(list) {
  const values = new Values();
  for (const v of list) values.set(unhex(v.key), wireValue(v), v.type);
  return values;
}

function wireValue(v) {
  switch (v.type) {
    case 'nil':
      return null;
    case 'string':
    case '[]byte':
    case 'json.RawMessage':
      return unhex(v.hex ?? '');
    case 'bool':
      return v.value === 'true';
    case 'float32':
    case 'float64':
      return unhex(v.bits);
    case 'time.Time':
      return new GoTime(BigInt(v.unix ?? '0'), v.nsec ?? 0, v.offset ?? 0);
    case '[]string':
      return (v.list ?? []).map(unhex);
    case 'map[string]string':
      return new Map((v.map ?? []).map(([k, s]) => [unhex(k), unhex(s)]));
  }
  return BigInt(v.value);
}

/** Normalizes a rendering for comparison: omitted zero fields filled, map pairs sorted. */
export function normal(list) {
  return list.map((v) => ({
    ...v,
    ...(v.type === 'time.Time' ? { unix: v.unix ?? '0', nsec: v.nsec ?? 0, offset: v.offset ?? 0 } : {}),
    ...(['string', '[]byte', 'json.RawMessage'].includes(v.type) ? { hex: v.hex ?? '' } : {}),
    ...(v.type === '[]string' ? { list: v.list ?? [] } : {}),
    ...(v.type === 'map[string]string' ? { map: [...(v.map ?? [])].sort() } : {}),
  }));
}

let interopBinary;

/** Runs requests through the Go interop program (built once) and returns its answers. */
export function goInterop(requests) {
  if (!interopBinary) {
    interopBinary = join(mkdtempSync(join(tmpdir(), 'cookiesession-interop-')), 'interop');
    execFileSync('go', ['build', '-o', interopBinary, './interop'], { cwd: jsDir, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const out = execFileSync(interopBinary, { input: JSON.stringify(requests), maxBuffer: 64 << 20 });
  return JSON.parse(out.toString('utf8'));
}
