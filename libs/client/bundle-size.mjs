#!/usr/bin/env node
// The size of a minified browser bundle of the built ESM package (run build.mjs first):
// with socket.io-client bundled in, and without it (the client's own code).
// `eventsource` is Node-only (a dynamic import that browsers never reach) and stays out.
// Bundled with rolldown, which vite ships. Prints JSON: bytes minified and gzipped.
//
// `node libs/client/bundle-size.mjs [--package <dir>]`
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--package');
const pkg = flag > 0 ? path.resolve(process.argv[flag + 1]) : path.resolve(here, '../../dist/libs/client');
const input = path.join(pkg, 'dist/esm/index.js');

async function measure(external) {
  const bundle = await rolldown({ input, platform: 'browser', external, logLevel: 'silent', cwd: path.resolve(here, '../..') });
  const { output } = await bundle.generate({ format: 'esm', minify: true });
  await bundle.close();
  const code = output
    .filter((chunk) => chunk.type === 'chunk')
    .map((chunk) => chunk.code)
    .join('\n');
  return { minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

const sizes = {
  withSocketIo: await measure([/^eventsource$/]),
  withoutSocketIo: await measure([/^eventsource$/, /^socket\.io-client(\/|$)/]),
};
console.log(JSON.stringify(sizes));
