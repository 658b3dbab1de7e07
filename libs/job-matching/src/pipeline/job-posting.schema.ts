import { z } from 'zod';
import { InvalidInputError, type JobPosting } from '@app/notifications';

/**
 * BullMQ job ids may not contain ':' nor be integers; the posting id is the job
 * id. BullMQ's test is `String(parseInt(id)) === id`, which "-5" and "NaN" also
 * pass: they are refused here too, or the add would fail after validation.
 */
// At most 100 characters, so `job-match:<id>` stays a valid idempotency key.
export const POSTING_ID_PATTERN = /^(?!-?\d+$)(?!NaN$)[A-Za-z0-9_.-]{1,100}$/;

/**
 * A posting, as `POST /api/jobs` and the `job-postings` queue take it: unknown
 * fields are refused. The gateway's OpenAPI document is generated from it.
 */
export const jobPostingSchema = z.strictObject({
  id: z.string().regex(POSTING_ID_PATTERN, 'must be 1-100 of A-Z a-z 0-9 _ . -, and not an integer nor NaN'),
  title: z.string().min(1, 'must not be empty').max(500),
  company: z.string().min(1).max(200),
  location: z.string().min(1).max(200).optional(),
  description: z.string().max(50_000).optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  salary: z.number().finite().nonnegative().optional(),
  remote: z.boolean().optional(),
});

/**
 * Checks a posting wherever it enters: `POST /api/jobs` and the queue (which
 * internal services may fill directly). Throws InvalidInputError naming the field.
 */
export function parseJobPosting(input: unknown): JobPosting {
  const parsed = jobPostingSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.') || 'body';
  const message = issue.path.length > 0 || issue.code === 'unrecognized_keys' ? `${field}: ${issue.message}` : issue.message;
  throw new InvalidInputError(field, message);
}
