import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** Where Bull Board is mounted. */
export const QUEUE_DASHBOARD_ROUTE = '/admin/queues';

/**
 * True for every request under `/admin`. Express matches routes without regard
 * to case, so `/ADMIN/queues` reaches the board too; the check follows it.
 */
export function isAdminPath(request: IncomingMessage): boolean {
  let pathname: string;
  try {
    pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
  } catch {
    return false;
  }
  return /^\/admin(\/|$)/i.test(pathname);
}

// Digests of equal length, so that timingSafeEqual neither throws nor tells the password's length.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Guards Bull Board with HTTP Basic auth: any user name, ADMIN_PASSWORD as the
 * password (browsers ask for it because of `WWW-Authenticate`). The internal
 * key is not accepted: publishing must not come with the power to delete jobs.
 * Without ADMIN_PASSWORD nobody gets in.
 */
export function queueDashboardGuard(adminPassword: string | null) {
  const expected = adminPassword === null ? null : digest(adminPassword);
  return (request: Request, response: Response, next: NextFunction): void => {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
    const credentials = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
    const colon = credentials.indexOf(':');
    if (expected !== null && colon >= 0 && timingSafeEqual(digest(credentials.slice(colon + 1)), expected)) return next();
    response
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"')
      .json({
        statusCode: 401,
        error: 'Unauthorized',
        message: expected === null ? 'the queue dashboard is disabled: ADMIN_PASSWORD is not set' : 'Basic auth with ADMIN_PASSWORD required',
      });
  };
}
