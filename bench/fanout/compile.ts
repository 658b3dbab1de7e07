import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SOURCE = path.join(__dirname);
const OUT = path.join(__dirname, '..', '.build', 'fanout');

/**
 * Compiles bench/fanout to plain CommonJS in bench/.build/fanout, and answers
 * the path of a compiled file. The servers under test must run compiled code,
 * as the gateway does (dist/): loading TypeScript and a require hook into a
 * reference would tax it in memory and start-up that the gateway does not pay.
 * Transpiling only (no type check): `npm run typecheck` covers bench/.
 */
export function compileFanout(): (file: string) => string {
  const options: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2023, esModuleInterop: true, sourceMap: false };
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.name.endsWith('.ts') ? [full] : [];
    });
  for (const file of walk(SOURCE)) {
    const target = path.join(OUT, path.relative(SOURCE, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  }
  return (file) => path.join(OUT, file.replace(/\.ts$/, '.js'));
}
