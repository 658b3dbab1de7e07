import request from 'supertest';
import { TEST_API_KEY } from './start-gateway';

/** Publishes through the real `POST /api/notifications` as an internal service; returns the id. */
export async function publish(
  baseUrl: string,
  userId: string,
  type = 'job-match',
  data: Record<string, unknown> = {},
  idempotencyKey?: string,
): Promise<string> {
  const response = await request(baseUrl)
    .post('/api/notifications')
    .set('X-Api-Key', TEST_API_KEY)
    .send({ userId, type, data, ...(idempotencyKey ? { idempotencyKey } : {}) });
  if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}
