// Prints the size of the package as an edge bundle: src/index.js with
// @noble/ciphers, bundled and minified by esbuild, then gzipped.
// Run: npm run size
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const result = await build({
  entryPoints: [new URL('../src/index.js', import.meta.url).pathname],
  bundle: true, minify: true, format: 'esm', platform: 'neutral', write: false,
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`bundle: ${code.length} bytes minified, ${gzipped} bytes gzipped (esbuild, gzip -9)`);
