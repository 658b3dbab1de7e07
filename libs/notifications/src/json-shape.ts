/**
 * How deeply JSON input may nest objects and arrays. Deeper input is refused
 * at every edge (HTTP bodies, socket payloads, queue job data): recursive code
 * downstream (class-transformer, JSON.stringify) overflows the stack at a few
 * thousand levels, which a 30 KB body can reach, and no real payload needs more.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Keys that re-point or shadow an object's prototype when code copies or merges
 * them (prototype poisoning). Nest's ValidationPipe deletes them from HTTP
 * bodies without a word, which would store something other than what was sent;
 * they are refused instead, on every channel alike.
 */
const POISON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The nesting depth of a JSON-like value: 0 for a primitive, 1 for an object or
 * array of primitives, and so on. Walks iteratively, so any input is safe, and
 * stops counting past `limit` (it then returns `limit + 1`). Buffers and typed
 * arrays (binary socket payloads) are leaves.
 */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  return walk(value, limit).depth;
}

/**
 * What is wrong with a JSON value that no code should walk: nested deeper
 * than {@link MAX_JSON_DEPTH}, or holding a `__proto__`, `constructor` or
 * `prototype` key at any level (JSON.parse makes `__proto__` an own property; a
 * later copy or merge would make it a prototype). Null when neither.
 */
export function jsonShapeProblem(value: unknown): string | null {
  const { depth, poisoned } = walk(value, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) return `must nest at most ${MAX_JSON_DEPTH} levels deep`;
  if (poisoned) return 'must not contain a "__proto__", "constructor" or "prototype" key';
  return null;
}

/**
 * The first top-level field of a body or payload that must be refused before
 * validation walks it, with the reason: a field whose value has a
 * {@link jsonShapeProblem}, or a field named like something every object
 * inherits (`__proto__`, `constructor`, `toString`, ...) or `prototype`, which
 * validators skip rather than refuse as unknown. A top-level array is judged as a
 * whole under `fallback`. Null when the input is safe to validate.
 */
export function unsafeJsonField(container: unknown, fallback: string): { field: string; message: string } | null {
  if (typeof container !== 'object' || container === null || ArrayBuffer.isView(container)) return null;
  if (Array.isArray(container)) {
    const { depth, poisoned } = walk(container, MAX_JSON_DEPTH + 1);
    if (depth > MAX_JSON_DEPTH + 1) return { field: fallback, message: `${fallback} must nest at most ${MAX_JSON_DEPTH} levels deep` };
    return poisoned ? { field: fallback, message: `${fallback} must not contain a "__proto__", "constructor" or "prototype" key` } : null;
  }
  for (const [field, value] of Object.entries(container)) {
    // Validators skip names that objects inherit (`__proto__`, `constructor`, `toString`, ...) instead of refusing them.
    if (field in Object.prototype || POISON_KEYS.has(field)) return { field, message: `property ${field} should not exist` };
    const problem = jsonShapeProblem(value);
    if (problem !== null) return { field, message: `${field} ${problem}` };
  }
  return null;
}

function walk(value: unknown, limit: number): { depth: number; poisoned: boolean } {
  let deepest = 0;
  let poisoned = false;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current) || current instanceof ArrayBuffer) continue;
    if (depth > limit) return { depth: limit + 1, poisoned };
    if (depth > deepest) deepest = depth;
    if (!Array.isArray(current) && !poisoned) for (const key of Object.keys(current)) if (POISON_KEYS.has(key)) poisoned = true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return { depth: deepest, poisoned };
}
