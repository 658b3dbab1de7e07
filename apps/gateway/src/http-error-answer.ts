import { HttpException, HttpStatus, type Logger } from '@nestjs/common';
import { ForbiddenError, InvalidInputError, isRedisUnavailable, NotFoundError, UnauthorizedError } from '@app/notifications';
import { ConnectionRefusedError } from './connections/connection-refused.error';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

/** How long a client should wait before it retries a request that failed because Redis was away. */
export const REDIS_RETRY_AFTER_SECONDS = 1;

export interface HttpErrorAnswer {
  status: number;
  body: object;
  /** `Retry-After` (seconds) when the client may simply try again later. */
  retryAfterSeconds: number | null;
}

/**
 * What an HTTP error answers: the one JSON shape
 * `{ statusCode, error, message, field? }` (domain errors map to 400 naming the
 * field, 401, 403 and 404; Redis being away is a 503 with `Retry-After: 1`; a
 * refused connection 429 or 503 with its own `Retry-After`; anything else is a
 * logged 500), or a report with a shape of its own (the health check's
 * `{ status: "error", ... }`) as it is. Shared by the exception filter and the
 * event stream, which answers outside Express.
 */
export function httpErrorAnswer(exception: unknown, log: Logger): HttpErrorAnswer {
  if (exception instanceof HttpException && isReport(exception.getResponse())) {
    return { status: exception.getStatus(), body: exception.getResponse() as object, retryAfterSeconds: null };
  }
  const body = toBody(exception, log);
  return { status: body.statusCode, body, retryAfterSeconds: retryAfter(exception, body.statusCode) };
}

function retryAfter(exception: unknown, status: number): number | null {
  if (exception instanceof ConnectionRefusedError) return exception.retryAfterSeconds;
  return status === 503 && isRedisUnavailable(exception) ? REDIS_RETRY_AFTER_SECONDS : null;
}

function toBody(exception: unknown, log: Logger): ErrorBody {
  if (exception instanceof InvalidInputError) {
    return { statusCode: 400, error: 'Bad Request', message: exception.message, field: exception.field };
  }
  if (exception instanceof UnauthorizedError) {
    return { statusCode: 401, error: 'Unauthorized', message: exception.message };
  }
  if (exception instanceof ForbiddenError) {
    return { statusCode: 403, error: 'Forbidden', message: exception.message };
  }
  if (exception instanceof NotFoundError) {
    return { statusCode: 404, error: 'Not Found', message: exception.message };
  }
  if (exception instanceof ConnectionRefusedError) {
    const status = exception.refusal === 'draining' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.TOO_MANY_REQUESTS;
    return { statusCode: status, error: statusText(status), message: exception.message };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const answer = exception.getResponse();
    const fromAnswer = typeof answer === 'object' && answer !== null ? (answer as Partial<ErrorBody>) : {};
    return {
      statusCode: status,
      error: typeof fromAnswer.error === 'string' ? fromAnswer.error : statusText(status),
      message: typeof fromAnswer.message === 'string' ? fromAnswer.message : exception.message,
      // A 400 always names a field; one that is not about a field (malformed JSON) is about the body.
      ...(typeof fromAnswer.field === 'string' ? { field: fromAnswer.field } : status === 400 ? { field: 'body' } : {}),
    };
  }
  if (isRedisUnavailable(exception)) {
    return { statusCode: 503, error: 'Service Unavailable', message: 'redis is unavailable, retry later' };
  }
  const status = (exception as { status?: unknown; type?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // body-parser errors (malformed JSON 400, over the limit 413) carry their status; a 400 is about the body.
    return { statusCode: status, error: statusText(status), message: (exception as Error).message, ...(status === 400 ? { field: 'body' } : {}) };
  }
  log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
}

/** `PAYLOAD_TOO_LARGE` → `Payload Too Large`. */
function statusText(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function isReport(answer: unknown): boolean {
  return typeof answer === 'object' && answer !== null && !('statusCode' in answer) && 'status' in answer;
}
