import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * Guards Bull Board: `X-Api-Key`, or HTTP Basic with the key as password (so a
 * browser can open the page). Without INTERNAL_API_KEY nobody gets in.
 */
export function queueDashboardGuard(internalApiKey: string | null) {
  const key = internalApiKey === null ? null : Buffer.from(internalApiKey);
  const matches = (given: string | undefined) => {
    if (key === null || given === undefined) return false;
    const candidate = Buffer.from(given);
    return candidate.length === key.length && timingSafeEqual(candidate, key);
  };
  return (request: Request, response: Response, next: NextFunction): void => {
    const header = request.headers['x-api-key'];
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const password = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
    if (matches(typeof header === 'string' ? header : undefined) || matches(password)) return next();
    response
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"')
      .json({ statusCode: 401, error: 'Unauthorized', message: 'X-Api-Key or Basic auth with the internal API key required' });
  };
}
