import { type HistoryPage, type NotificationEnvelope, resumePoint } from '@app/notifications';

/** Items a polling read lists when it names no `limit`. */
export const DEFAULT_PAGE = 50;

/** What a polling read answers: the JSON text, and how many entries it lists. */
export interface PollingAnswer {
  readonly json: string;
  readonly listed: number;
}

/**
 * The answer of a polling read (`GET /api/notifications`, `GET
 * /api/topics/:topic/events`): `{ items, lastId, reset? }`, by the cursor rules
 * of every channel; a user's items carry `read`. The stored JSON is what SSE
 * sends too: it is spliced in rather than parsed and serialized again.
 */
export function historyPageAnswer(after: string | null, page: HistoryPage): PollingAnswer {
  const { position, reset } = resumePoint(after, page);
  // An unknown cursor continues from the newest position: nothing before it is this client's to list.
  // A trimmed one lists the oldest retained, which is what the read after it returned.
  const items = reset === 'unknown-cursor' ? [] : page.items;
  const lastId = items.length > 0 ? items[items.length - 1].id : after === null ? null : position;
  const resetJson = reset === null ? '' : `,"reset":{"reason":"${reset}"}`;
  const read = page.read;
  // The stored JSON ends with its closing brace: `read` goes just before it.
  const itemJson = read === null ? (envelope: NotificationEnvelope) => envelope.json : (envelope: NotificationEnvelope, i: number) => `${envelope.json.slice(0, -1)},"read":${read[i]}}`;
  return {
    json: `{"items":[${items.map(itemJson).join(',')}],"lastId":${JSON.stringify(lastId)}${resetJson}}`,
    listed: items.length,
  };
}
