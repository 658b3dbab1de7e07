import fc from 'fast-check';

/*
 * Shared fast-check pieces for the fuzz specs: hostile values, and a tally of
 * how many cases each input edge ran (printed after each spec, reported in
 * docs/security.md). FUZZ_SCALE multiplies every numRuns (e.g. FUZZ_SCALE=10
 * for a long local session); FUZZ_SEED replays one failing run. Locally every
 * run explores new cases; in CI (CI=true) the seed is fixed, so a submission
 * is judged on the same cases every time and a new finding shows up locally
 * first, where it can be looked at.
 */

const scale = Number(process.env.FUZZ_SCALE ?? '1');
const CI_SEED = 20261121;
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.CI === 'true' ? CI_SEED : undefined;

/** fc.assert parameters with the run count scaled; each property stays bounded in count. */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  return { numRuns: Math.max(1, Math.round(numRuns * scale)), ...(seed === undefined ? {} : { seed }), endOnFailure: true };
}

/** A Jest timeout for a test whose run count FUZZ_SCALE multiplies. */
export function fuzzTimeout(baseMs: number): number {
  return Math.max(baseMs, Math.round(baseMs * scale));
}

const tally = new Map<string, number>();

/** Counts one case of an edge (call it inside the property, so shrinking runs count too). */
export function countCase(edge: string): void {
  tally.set(edge, (tally.get(edge) ?? 0) + 1);
}

/** The cases run so far, by edge, and their total. */
export function fuzzTally(): { edges: Record<string, number>; total: number } {
  const edges = Object.fromEntries([...tally].sort(([a], [b]) => a.localeCompare(b)));
  return { edges, total: [...tally.values()].reduce((sum, n) => sum + n, 0) };
}

/** Prints the tally as one line per edge and a total (call in afterAll). */
export function printFuzzTally(spec: string): void {
  const { edges, total } = fuzzTally();
  const lines = Object.entries(edges).map(([edge, n]) => `  ${edge}: ${n}`);
  process.stdout.write(`\nfuzz cases (${spec}):\n${lines.join('\n')}\n  total: ${total}\n`);
}

/** Strings that break naive parsers: empty, whitespace, control and lone-surrogate characters, injections, huge. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\t',
  '\u0000',
  '\u0000abc',
  '\uD800',
  '\uDFFF\uD800',
  '\u202E',
  '\uFEFF',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%',
  '%00',
  '%zz',
  '%E0%A4%A',
  '../../etc/passwd',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '\r\nSet-Cookie: x=1',
  '*',
  '0',
  '-0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '9'.repeat(40),
  '18446744073709551615-18446744073709551615',
  '18446744073709551616-0',
  '1-2-3',
  '1-',
  '-',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  'x'.repeat(129),
  'y'.repeat(5_000),
];

/** Any string: printable, arbitrary code points, ASCII with control characters, or one of the nasty ones. */
export function hostileString(maxLength = 80): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom(...NASTY_STRINGS),
  );
}

/** A string an HTTP header value may carry (Node refuses CR, LF and other control characters). */
export function headerValue(maxLength = 200): fc.Arbitrary<string> {
  const unit = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    fc.constant('\t'),
    fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
  );
  return fc.oneof(
    fc.string({ unit, maxLength }),
    fc.constantFrom(...NASTY_STRINGS.filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s))),
  );
}

/** `depth` levels of `[` or `{"k":` around a scalar, built without recursion. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { k: value };
  return value;
}

/**
 * Raw JSON text nesting `depth` levels at `field` of an otherwise plausible
 * object: deeper than JSON.stringify (and so any client library) can produce,
 * for the edges that must survive it.
 */
export function deepJsonText(depth: number, kind: 'array' | 'object', prefix = '{"data":', suffix = '}'): string {
  const [open, close] = kind === 'array' ? ['[', ']'] : ['{"k":', '}'];
  return `${prefix}${open.repeat(depth)}1${close.repeat(depth)}${suffix}`;
}

/** JSON values of every shape, including prototype-pollution keys, nesting around the limit and big arrays. */
export function hostileJson(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(hostileString(20), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom(...[2, 63, 64, 65, 66, 1_000].flatMap((d) => [deeplyNested(d, 'array'), deeplyNested(d, 'object')])) },
    { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')) },
    { weight: 1, arbitrary: fc.array(fc.integer(), { minLength: 1_000, maxLength: 3_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, '', 'x'.repeat(70_000)) },
  );
}

/**
 * A mutation of a valid object: each field kept, removed or replaced by a
 * hostile value, plus maybe unknown fields. Gives a mix of valid and invalid
 * inputs that sit close to the valid ones, where validation bugs live.
 */
export function mutated<T extends Record<string, unknown>>(
  valid: fc.Arbitrary<T>,
  replacement: fc.Arbitrary<unknown> = fc.oneof(hostileString(), hostileJson()),
): fc.Arbitrary<Record<string, unknown>> {
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.constant<{ kind: 'keep' }>({ kind: 'keep' }) },
    { weight: 1, arbitrary: fc.constant<{ kind: 'drop' }>({ kind: 'drop' }) },
    { weight: 2, arbitrary: replacement.map((value) => ({ kind: 'replace' as const, value })) },
  );
  return fc
    .tuple(valid, fc.array(op, { minLength: 8, maxLength: 8 }), fc.option(fc.dictionary(hostileString(12), hostileJson(), { maxKeys: 2 }), { freq: 4 }))
    .map(([base, ops, extra]) => {
      const result: Record<string, unknown> = {};
      Object.keys(base).forEach((key, i) => {
        const operation = ops[i % ops.length];
        if (operation.kind === 'keep') result[key] = base[key];
        else if (operation.kind === 'replace') result[key] = operation.value;
      });
      if (extra) for (const [key, value] of Object.entries(extra)) Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      return result;
    });
}

/** What the server sees of a value sent as JSON (undefined dropped, -0 → 0, and so on). */
export function overTheWire(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}
