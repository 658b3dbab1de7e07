import type { JobPosting, NotificationPage, SavedSearch, SavedSearchRequest } from '@app/client';

/** A non-2xx answer, with the gateway's message (`{ statusCode, error, message, field? }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  const response = await fetch(path, { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const message = (body as { message?: unknown } | null)?.message;
    throw new ApiError(response.status, typeof message === 'string' ? message : `HTTP ${response.status}`);
  }
  return body as T;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** `POST /api/dev/token`: only when the gateway does not run with NODE_ENV=production. */
export async function devToken(userId: string): Promise<string> {
  const { token } = await call<{ token: string }>('/api/dev/token', { method: 'POST', body: JSON.stringify({ userId }) });
  return token;
}

/** `GET /api/notifications`: a page of the user's history after `after` (none: the oldest retained), each item with `read`. */
export function listNotifications(token: string, after: string | null, limit: number): Promise<NotificationPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(after === null ? {} : { after }) });
  return call(`/api/notifications?${query}`, { method: 'GET', headers: bearer(token) });
}

export function listSavedSearches(token: string): Promise<{ items: SavedSearch[] }> {
  return call('/api/saved-searches', { method: 'GET', headers: bearer(token) });
}

export function createSavedSearch(token: string, search: SavedSearchRequest): Promise<SavedSearch> {
  return call('/api/saved-searches', { method: 'POST', headers: bearer(token), body: JSON.stringify(search) });
}

export function deleteSavedSearch(token: string, id: string): Promise<null> {
  return call(`/api/saved-searches/${encodeURIComponent(id)}`, { method: 'DELETE', headers: bearer(token) });
}

/** `POST /api/jobs`: what an internal service does, with the gateway's INTERNAL_API_KEY. */
export function postJob(apiKey: string, posting: JobPosting): Promise<{ jobId: string }> {
  return call('/api/jobs', { method: 'POST', headers: { 'X-Api-Key': apiKey }, body: JSON.stringify(posting) });
}
