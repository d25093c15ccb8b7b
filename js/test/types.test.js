// The type declarations against the runtime: test/types/usage.ts, which
// uses the API and marks what the runtime refuses, compiles with tsc.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { jsDir } from './helpers.js';

it('src/index.d.ts types test/types/usage.ts as the runtime behaves', () => {
  const tsc = join(jsDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(jsDir, 'test', 'types', 'usage.ts')];
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, ...args], { encoding: 'utf8' });
  } catch (err) {
    out = String(err.stdout) + String(err.stderr);
  }
  assert.equal(out, '');
});
