#!/usr/bin/env node
// Builds the publishable package of libs/client into dist/libs/client (the repo's
// dist/, which lint and the root tsconfig ignore): `npm pack dist/libs/client`.
//
//   dist/libs/client/
//     package.json        libs/client/package.json without its scripts
//     README.md
//     dist/esm/           ES2022 modules ({"type":"module"}, `.js` specifiers)
//     dist/cjs/           CommonJS
//     dist/types/esm/     declarations for `import` ({"type":"module"}, `.js` specifiers)
//     dist/types/cjs/     declarations for `require` (and the top-level "types")
//     dist/types/*/wire/  the wire types of libs/notifications/src/client-events.ts
//                         and the type-only files it imports, so the types stand alone
//
// Two emits of one TypeScript program (type-checked first): the ESM one and the
// CommonJS one. The client imports `@app/notifications/client-events` for types
// only, so its JavaScript never names it; its declarations do, and are rewritten
// to the local `./wire/client-events`. Files of libs/notifications are emitted
// as declarations only.
//
// `node libs/client/build.mjs [--out <dir>]`
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(repo, 'dist/libs/client');
const clientSrc = path.join(here, 'src');
const wireSrc = path.join(repo, 'libs/notifications/src');
const WIRE_SPECIFIER = '@app/notifications/client-events';

const entries = fs
  .readdirSync(clientSrc)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
  .map((name) => path.join(clientSrc, name));

const base = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  types: ['node'], // libs/notifications' bodies use Buffer; the consumer test checks the output needs no @types/node
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  paths: { [WIRE_SPECIFIER]: [path.join(wireSrc, 'client-events.ts')] },
  rootDir: path.join(repo, 'libs'),
  outDir: path.join(out, '.emit'),
  declaration: true,
  strict: true,
  isolatedModules: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  forceConsistentCasingInFileNames: true,
  removeComments: false,
  sourceMap: false,
  newLine: ts.NewLineKind.LineFeed,
};

/** `./x` → `./x.js` in import/export/import() specifiers (ESM needs full paths). */
function withJsExtensions(code) {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\2/g, (match, lead, quote, specifier) =>
    /\.(c|m)?js$/.test(specifier) ? match : `${lead}${quote}${specifier}.js${quote}`,
  );
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function emit(flavour, moduleKind) {
  const options = { ...base, module: moduleKind };
  const program = ts.createProgram(entries, options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => repo, getNewLine: () => '\n' };
    throw new Error(`libs/client does not type-check (${flavour}):\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
  const emitted = program.emit(undefined, (fileName, text) => {
    const relative = path.relative(options.outDir, fileName).split(path.sep).join('/');
    const isTypes = relative.endsWith('.d.ts');
    let target;
    if (relative.startsWith('client/src/')) {
      const name = relative.slice('client/src/'.length);
      target = isTypes ? `dist/types/${flavour}/${name}` : `dist/${flavour}/${name}`;
      if (isTypes) text = text.replaceAll(`'${WIRE_SPECIFIER}'`, "'./wire/client-events'").replaceAll(`"${WIRE_SPECIFIER}"`, '"./wire/client-events"');
    } else if (relative.startsWith('notifications/src/')) {
      if (!isTypes) return; // the client's JavaScript never loads the server library
      target = `dist/types/${flavour}/wire/${relative.slice('notifications/src/'.length)}`;
    } else {
      throw new Error(`unexpected output ${relative}`);
    }
    if (flavour === 'esm') text = withJsExtensions(text);
    write(path.join(out, target), text);
  });
  if (emitted.emitSkipped) throw new Error(`the ${flavour} emit was skipped`);
}

fs.rmSync(out, { recursive: true, force: true });
emit('esm', ts.ModuleKind.ES2022);
emit('cjs', ts.ModuleKind.CommonJS);
for (const dir of ['dist/esm', 'dist/types/esm']) write(path.join(out, dir, 'package.json'), '{\n  "type": "module"\n}\n');

// The published files must not reach outside the package.
const problems = [];
for (const file of fs.readdirSync(path.join(out, 'dist'), { recursive: true })) {
  const full = path.join(out, 'dist', file);
  if (fs.statSync(full).isDirectory() || file.endsWith('package.json')) continue;
  const text = fs.readFileSync(full, 'utf8');
  if (text.includes('@app/')) problems.push(`${file} names @app/`);
  const bare = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]).filter((s) => !s.startsWith('.'));
  for (const specifier of bare) if (!['socket.io-client', 'eventsource'].includes(specifier)) problems.push(`${file} imports ${specifier}`);
}
if (problems.length > 0) throw new Error(`the build reaches outside the package:\n${problems.join('\n')}`);

const manifest = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
delete manifest.scripts;
delete manifest.devDependencies;
write(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
fs.copyFileSync(path.join(here, 'README.md'), path.join(out, 'README.md'));
fs.rmSync(path.join(out, '.emit'), { recursive: true, force: true });
console.log(`built ${manifest.name}@${manifest.version} into ${path.relative(process.cwd(), out) || '.'}`);
