import { jsonDepth, jsonShapeProblem, MAX_JSON_DEPTH, unsafeJsonField } from './json-shape';

/** `depth` nested arrays around 1, built without recursion. */
function nested(depth: number, wrap: (inner: unknown) => unknown = (inner) => [inner]): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

describe('jsonDepth', () => {
  it.each([[1], ['x'], [null], [true], [undefined]])('is 0 for the primitive %j', (value) => {
    expect(jsonDepth(value)).toBe(0);
  });

  it('counts objects and arrays alike', () => {
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([])).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(10, (inner) => ({ k: inner })))).toBe(10);
  });

  it('takes the deepest branch', () => {
    expect(jsonDepth({ a: 1, b: nested(5), c: [nested(7)] })).toBe(9);
  });

  it('treats buffers as leaves', () => {
    expect(jsonDepth({ blob: Buffer.alloc(1024) })).toBe(1);
    expect(jsonDepth([new Uint8Array(4)])).toBe(1);
  });

  it('stops counting past the limit, and survives nesting that would overflow recursive code', () => {
    const deep = nested(200_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonDepth(nested(10), 5)).toBe(6);
  });
});

describe('jsonShapeProblem', () => {
  it('is null for ordinary JSON', () => {
    expect(jsonShapeProblem({ a: [1, { name: 'Bob', toString: 2 }] })).toBeNull();
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH))).toBeNull();
  });

  it('names nesting past the limit', () => {
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/at most 64 levels/);
  });

  it('finds a __proto__, constructor or prototype key at any level, as JSON.parse makes them', () => {
    expect(jsonShapeProblem(JSON.parse('{"a":[{"b":{"__proto__":{"polluted":true}}}]}'))).toMatch(/__proto__/);
    expect(jsonShapeProblem({ a: [{ constructor: { prototype: { polluted: true } } }] })).toMatch(/constructor/);
    expect(jsonShapeProblem({ prototype: 1 })).not.toBeNull();
    expect(jsonShapeProblem({ a: { polluted: true } })).toBeNull();
  });
});

describe('unsafeJsonField', () => {
  it('is null for safe input, and for anything that is not an object', () => {
    expect(unsafeJsonField({ a: nested(MAX_JSON_DEPTH) }, 'body')).toBeNull();
    expect(unsafeJsonField(nested(MAX_JSON_DEPTH + 1), 'body')).toBeNull();
    expect(unsafeJsonField('text', 'body')).toBeNull();
    expect(unsafeJsonField(null, 'body')).toBeNull();
    expect(unsafeJsonField(Buffer.from('x'), 'body')).toBeNull();
  });

  it('names the first top-level field that nests too deeply', () => {
    expect(unsafeJsonField({ ok: 1, data: nested(MAX_JSON_DEPTH + 1), other: nested(1000) }, 'body')).toEqual({
      field: 'data',
      message: 'data must nest at most 64 levels deep',
    });
  });

  it('refuses top-level fields named like inherited ones (__proto__, constructor, toString) or prototype, which validators would skip', () => {
    expect(unsafeJsonField(JSON.parse('{"a":1,"__proto__":{"b":2}}'), 'body')?.field).toBe('__proto__');
    expect(unsafeJsonField({ constructor: { prototype: { polluted: 1 } } }, 'body')?.field).toBe('constructor');
    expect(unsafeJsonField({ toString: 1 }, 'body')).toEqual({ field: 'toString', message: 'property toString should not exist' });
    expect(unsafeJsonField({ valueOf: 'x', hasOwnProperty: 1 }, 'body')?.field).toBe('valueOf');
    expect(unsafeJsonField({ prototype: {} }, 'body')?.field).toBe('prototype');
    expect(unsafeJsonField(JSON.parse('{"data":{"x":{"__proto__":{}}}}'), 'body')?.field).toBe('data');
  });

  it('judges a top-level array as a whole under the fallback name', () => {
    expect(unsafeJsonField(nested(MAX_JSON_DEPTH + 2), 'payload')?.field).toBe('payload');
    expect(unsafeJsonField(JSON.parse('[{"__proto__":{}}]'), 'payload')?.field).toBe('payload');
  });
});
