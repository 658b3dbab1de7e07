import fs from 'node:fs';
import path from 'node:path';

/*
 * The layout is the architecture: the library knows nothing of HTTP or sockets,
 * the apps do not import each other, and only configuration reads the
 * environment. These checks keep it so (a lint rule without a linter).
 */
const root = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]);
}

const relative = (file: string) => path.relative(root, file);

describe('architecture', () => {
  const library = sources(path.join(root, 'libs/notifications/src'));
  const apps = fs.readdirSync(path.join(root, 'apps'));

  it('finds the sources it guards', () => {
    expect(library.length).toBeGreaterThan(5);
    expect(apps).toContain('gateway');
  });

  it('keeps HTTP, sockets and Nest platform packages out of the library', () => {
    const forbidden = /^(express|socket\.io|@nestjs\/platform-|@nestjs\/websockets|node:http|http|cookie-parser)/;
    const offenders = library.flatMap((file) => imports(file).filter((name) => forbidden.test(name)).map((name) => `${relative(file)} → ${name}`));
    expect(offenders).toEqual([]);
  });

  it('keeps the library from importing any app, and each app from importing another', () => {
    const offenders = library.flatMap((file) => imports(file).filter((name) => name.includes('apps/')).map((name) => `${relative(file)} → ${name}`));
    for (const app of apps) {
      for (const file of sources(path.join(root, 'apps', app, 'src'))) {
        for (const name of imports(file)) {
          const other = apps.find((candidate) => candidate !== app && name.includes(`apps/${candidate}`));
          if (other) offenders.push(`${relative(file)} → ${name}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('reads process.env only in the entry points', () => {
    const entryPoints = new Set(apps.map((app) => path.join(root, 'apps', app, 'src', 'main.ts')));
    const everything = [...library, ...apps.flatMap((app) => sources(path.join(root, 'apps', app, 'src')))];
    const code = (file: string) => fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const offenders = everything.filter((file) => !entryPoints.has(file) && /process\.env\b/.test(code(file)));
    expect(offenders.map(relative)).toEqual([]);
  });
});
