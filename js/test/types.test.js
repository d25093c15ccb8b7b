// The type declarations against the runtime: test/types/usage.ts, which
// uses the API and marks what the runtime refuses, compiles with tsc, and
// its uses run.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parseKeyRing, SessionCookies } from '../src/index.js';
import { jsDir, ringText } from './helpers.js';

const usage = join(jsDir, 'test', 'types', 'usage.ts');

it('src/index.d.ts types test/types/usage.ts as the runtime behaves', () => {
  const tsc = join(jsDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', usage];
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, ...args], { encoding: 'utf8' });
  } catch (err) {
    out = String(err.stdout) + String(err.stderr);
  }
  assert.equal(out, '');
});

it('runs the uses test/types/usage.ts type-checks, without a refusal', async () => {
  const ts = createRequire(import.meta.url)('typescript');
  const { outputText } = ts.transpileModule(readFileSync(usage, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
  const code = outputText.replaceAll("'../../src/index.js'", JSON.stringify(pathToFileURL(join(jsDir, 'src', 'index.js')).href));
  assert.notEqual(code, outputText, 'the import of src/index.js');
  // In base64: Bun 1.4.5 loads a percent-encoded data: URL whose text holds a '.' as a file
  // asset, a module with only a default export (oven-sh/bun issue 32057).
  const { use } = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  const text = ringText([{ id: 7, secret: new Uint8Array(32).fill(9) }]);
  const cookies = new SessionCookies(parseKeyRing(text), { name: 'session', sameSite: 'strict', maxChunks: 2, maxLifetime: 30 * 86400 });
  assert.deepEqual(use(text, null), cookies.clear());
  const sealedAt = Date.now();
  const header = cookies.seal({}).map((line) => line.split(';')[0]).join('; ');
  const lines = use(text, header);
  // usage.ts re-seals with its own clock, a 30-day maxAge counted from the
  // session's creation: the seconds that passed, on a loaded machine more
  // than one, come off Max-Age (and one more for the fraction cut off).
  const passed = Math.ceil((Date.now() - sealedAt) / 1000);
  const [, maxAge] = lines[0].match(/^session=[\w-]+; Max-Age=(\d+); Path=\/; HttpOnly; Secure; SameSite=Strict$/) ?? [];
  assert.ok(Number(maxAge) <= 2592000 && Number(maxAge) >= 2592000 - passed - 1, `${lines[0]}: Max-Age of a 30-day session re-sealed ${passed} s after it began`);
  assert.equal(cookies.open(lines[0].split(';')[0]).values.get('visits'), 2);
});
