import { tokenize } from '@app/job-matching';
import { MAX_DATA_BYTES, MAX_JSON_DEPTH } from '@app/notifications';

/*
 * The contract's validity rules for each input, written apart from the code
 * under test (docs/api.md, shared/contract.md), for the fuzz specs to check
 * each answer against. They reuse only the contract's own constants and the
 * word tokenizer (a keyword must contain a word).
 */

/**
 * Contract, Identity: 1 to 128 characters (code points) without control characters; and no
 * whitespace or lone surrogates (docs/api.md). Spelled as ranges from the Unicode tables (Cc,
 * White_Space) rather than property escapes, so it checks the code's pattern and fast-check can
 * generate from it; a surrogate pair is one character.
 */
// eslint-disable-next-line no-control-regex -- the contract refuses C0 controls in user ids
export const USER_ID = /^(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]){1,128}$/;
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
export const TYPE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const onlyKeys = (value: Record<string, unknown>, allowed: string[]) => Object.keys(value).every((key) => allowed.includes(key));

/** Nesting depth (0 for a primitive); the fuzzer's values nest at most about 1,000 deep, so recursion is fine. */
export function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/** A `__proto__`, `constructor` or `prototype` key at any level (refused: prototype poisoning, see docs/security.md). */
export function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (!Array.isArray(value) && Object.keys(value).some((key) => ['__proto__', 'constructor', 'prototype'].includes(key))) return true;
  return Object.values(value).some(hasProtoKey);
}

/** The contract's rule for `POST /api/notifications`, independent of the code under test. */
export function publishIsValid(body: unknown): boolean {
  if (!isPlainObject(body) || !onlyKeys(body, ['userId', 'type', 'data', 'idempotencyKey'])) return false;
  const { userId, type, data, idempotencyKey } = body;
  if (typeof userId !== 'string' || !USER_ID.test(userId)) return false;
  if (typeof type !== 'string' || !TYPE.test(type)) return false;
  if (!isPlainObject(data) || depthOf(data) > MAX_JSON_DEPTH || hasProtoKey(data)) return false;
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) return false;
  return !('idempotencyKey' in body) || (typeof idempotencyKey === 'string' && IDEMPOTENCY_KEY.test(idempotencyKey));
}

/** `POST /api/saved-searches`: `{ keywords: string[1..10] (1..100 chars, each with a word), location?, remote?, minSalary? }`. */
export function savedSearchIsValid(body: unknown): boolean {
  if (!isPlainObject(body) || !onlyKeys(body, ['keywords', 'location', 'remote', 'minSalary'])) return false;
  const { keywords, location, remote, minSalary } = body;
  if (!Array.isArray(keywords) || keywords.length < 1 || keywords.length > 10) return false;
  if (!keywords.every((k) => typeof k === 'string' && k.length >= 1 && k.length <= 100 && tokenize(k).length > 0)) return false;
  if ('location' in body && !(typeof location === 'string' && location.length >= 1 && location.length <= 200)) return false;
  if ('remote' in body && typeof remote !== 'boolean') return false;
  return !('minSalary' in body) || (typeof minSalary === 'number' && Number.isFinite(minSalary) && minSalary >= 0);
}

/** `POST /api/jobs`: the posting schema of the contract (docs/api.md). */
export function postingIsValid(body: unknown): boolean {
  if (!isPlainObject(body) || !onlyKeys(body, ['id', 'title', 'company', 'location', 'description', 'tags', 'salary', 'remote'])) return false;
  const str = (value: unknown, min: number, max: number) => typeof value === 'string' && value.length >= min && value.length <= max;
  const { id, title, company, location, description, tags, salary, remote } = body;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(id) || /^-?\d+$/.test(id) || id === 'NaN' || !str(title, 1, 500) || !str(company, 1, 200)) return false;
  if ('location' in body && !str(location, 1, 200)) return false;
  if ('description' in body && !str(description, 0, 50_000)) return false;
  if ('tags' in body && !(Array.isArray(tags) && tags.length <= 50 && tags.every((tag) => str(tag, 1, 100)))) return false;
  if ('salary' in body && !(typeof salary === 'number' && Number.isFinite(salary) && salary >= 0)) return false;
  return !('remote' in body) || typeof remote === 'boolean';
}

/** A resume id as the contract reads it: `<ms>[-<seq>]`, each at most 2^64-1. */
export function resumeIdIsValid(raw: string): boolean {
  const match = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(raw);
  return match !== null && BigInt(match[1]) <= 18446744073709551615n && BigInt(match[2] ?? '0') <= 18446744073709551615n;
}
