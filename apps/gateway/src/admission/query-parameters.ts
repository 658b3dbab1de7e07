import { InvalidInputError } from '@app/notifications';
import { parse as parseQueryString } from 'node:querystring';

/** A query as Express's `simple` parser gives it: a repeated parameter is an array. */
export type QueryParameters = Readonly<Record<string, string | string[] | undefined>>;

const NO_PARAMETERS: QueryParameters = Object.freeze({});

/**
 * The query of a request URL, for routes served ahead of Express, parsed as
 * Express parses it for the others (node:querystring: `+` is a space, a
 * repeated parameter an array, `a[b]` a name like any other).
 */
export function queryOf(url: string): QueryParameters {
  const start = url.indexOf('?');
  return start === -1 ? NO_PARAMETERS : parseQueryString(url.slice(start + 1));
}

/**
 * Refuses a parameter the route does not know with a 400 naming it, in the
 * validation pipe's words: a typo (`lastEventID`) must not pass silently as if
 * it had been understood.
 */
export function refuseUnknownParameters(query: QueryParameters, known: ReadonlySet<string>): void {
  for (const name in query) {
    if (!known.has(name)) throw new InvalidInputError(name, `property ${name} should not exist`);
  }
}

/** An optional single-valued parameter; repeated (`?a=1&a=2`) is a 400 naming it. */
export function optionalString(query: QueryParameters, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new InvalidInputError(name, `${name} must be a string`);
}
