import type { NextFunction, Request, Response } from 'express';

/** `application/json`, or a `+json` type such as `application/merge-patch+json`. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Bodies are JSON, and only JSON is parsed: a request with a body of another
 * type is answered 415 before any parser sees it. Nest would otherwise parse
 * urlencoded forms too, and a cross-site HTML form (no CORS preflight) could
 * then act for a user whose token rides in the `access_token` cookie: it could
 * create a saved search with `keywords[0]=...`. A JSON body from another origin
 * needs a preflight, which CORS_ORIGINS decides.
 */
export function jsonBodiesOnly(request: Request, response: Response, next: NextFunction): void {
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (!hasBody || request.method === 'GET' || request.method === 'HEAD' || JSON_TYPE.test(request.headers['content-type'] ?? '')) return next();
  response.status(415).json({ statusCode: 415, error: 'Unsupported Media Type', message: 'request bodies must be application/json' });
}
