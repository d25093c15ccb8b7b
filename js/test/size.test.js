// README quotes the bundle size that `npm run size` prints. The figure went
// stale once (every change to src/ moves it), so the quote is checked
// against a fresh build: esbuild and @noble/ciphers are pinned, so the
// bundle's bytes are the same on every machine.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { jsDir, repoRoot } from './helpers.js';

it("README quotes the bundle size that npm run size prints", () => {
  const printed = execFileSync(process.execPath, [join(jsDir, 'scripts', 'size.js')], { encoding: 'utf8' }).trim();
  const [, minified, gzipped] = printed.match(/^bundle: (\d+) bytes minified, (\d+) bytes gzipped/);
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.ok(readme.includes('```text\n' + printed + '\n```'), `README's quoted output is not today's: ${printed}`);
  const grouped = (n) => Number(n).toLocaleString('en-US');
  const bold = `**${grouped(minified)} bytes minified, ${grouped(gzipped)} bytes gzipped**`;
  assert.ok(readme.includes(bold), `README's figures in bold are not today's: ${bold}`);
});
