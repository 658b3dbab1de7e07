import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSecurity,
  getSchemaPath,
  type HeadersObject,
  type ResponseObject,
  type SecurityRequirementObject,
} from '@nestjs/swagger';
import type { ErrorBody } from '../http-error-answer';

/*
 * What every documented route shares: who may call it (the security schemes
 * openapi.ts declares) and the one error shape (http-error-answer.ts), with an
 * example per status. The OpenAPI test validates every example against its schema.
 */

/** The security schemes of the document, by name. */
export const SECURITY_SCHEMES = {
  userBearer: 'userBearer',
  userCookie: 'userCookie',
  userQuery: 'userQuery',
  internalApiKey: 'internalApiKey',
} as const;

/** A user token in any of its three places: each requirement is an alternative. */
export const USER_SECURITY: SecurityRequirementObject[] = [{ [SECURITY_SCHEMES.userBearer]: [] }, { [SECURITY_SCHEMES.userCookie]: [] }, { [SECURITY_SCHEMES.userQuery]: [] }];

export type ErrorStatus = 400 | 401 | 403 | 404 | 413 | 415 | 429 | 503;

/** Every HTTP error but a 400 (and the health report's own shape). */
export class ErrorAnswer {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 401 })
  statusCode!: number;

  @ApiProperty({ type: String, description: 'The status text.', example: 'Unauthorized' })
  error!: string;

  @ApiProperty({ type: String, example: 'missing user token' })
  message!: string;

  @ApiPropertyOptional({ type: String, description: 'The input at fault, when one is.', example: 'limit' })
  field?: string;
}

/** A 400 always names the input at fault. */
export class BadRequestAnswer {
  @ApiProperty({ type: 'integer', enum: [400], example: 400 })
  statusCode!: number;

  @ApiProperty({ type: String, enum: ['Bad Request'], example: 'Bad Request' })
  error!: string;

  @ApiProperty({ type: String, example: 'limit must be a whole number from 1 to 200' })
  message!: string;

  @ApiProperty({
    type: String,
    description: 'The body field (a path such as `items[3].type` or `keywords.0`), query parameter or header at fault; `body` for malformed JSON or a body that is not an object.',
    example: 'limit',
  })
  field!: string;
}

const RETRY_AFTER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0, example: 1 } },
};

/** What each status means on this gateway, and a typical answer. */
export const ERROR_ANSWERS: Record<ErrorStatus, { description: string; example: ErrorBody; headers?: HeadersObject }> = {
  400: {
    description: 'Bad input: a body field, query parameter or resume id, named by `field`. Unknown fields and query parameters are refused too.',
    example: { statusCode: 400, error: 'Bad Request', message: 'limit must be a whole number from 1 to 200', field: 'limit' },
  },
  401: {
    description: 'A missing, invalid or expired user token.',
    example: { statusCode: 401, error: 'Unauthorized', message: 'missing user token' },
  },
  403: {
    description: 'The user may not follow this topic (its token\'s `topics` claim and `PUBLIC_TOPICS` do not cover it).',
    example: { statusCode: 403, error: 'Forbidden', message: 'not allowed to follow topic scores.match-42' },
  },
  404: { description: "Not found (a saved search that is not the user's is not found either).", example: { statusCode: 404, error: 'Not Found', message: 'no such saved search' } },
  413: { description: 'The JSON body is over 1 MiB.', example: { statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' } },
  415: {
    description: 'The body is not `application/json`.',
    example: { statusCode: 415, error: 'Unsupported Media Type', message: 'request bodies must be application/json' },
  },
  429: {
    description: 'A connection cap is reached (`MAX_CONNECTIONS_PER_USER` or `MAX_CONNECTIONS_PER_INSTANCE`); `Retry-After` says when to try again.',
    example: { statusCode: 429, error: 'Too Many Requests', message: 'too many connections for this user on this instance (MAX_CONNECTIONS_PER_USER)' },
    headers: RETRY_AFTER,
  },
  503: {
    description: 'Redis cannot be reached or did not answer within 3 s, or the instance is shutting down: retry later (a publish with the same `idempotencyKey`).',
    example: { statusCode: 503, error: 'Service Unavailable', message: 'redis is unavailable, retry later' },
    headers: RETRY_AFTER,
  },
};

/**
 * The response object of an error status, for a path written by hand (the
 * event stream). `answer` replaces the status's example (same status).
 */
export function errorResponse(answer: ErrorStatus | ErrorBody): ResponseObject {
  const status = (typeof answer === 'number' ? answer : answer.statusCode) as ErrorStatus;
  const { description, example, headers } = ERROR_ANSWERS[status];
  const schema = { $ref: getSchemaPath(status === 400 ? BadRequestAnswer : ErrorAnswer) };
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema, example: typeof answer === 'number' ? example : answer } } };
}

/**
 * The error answers of a route, each a status (with its typical example) or an
 * example body of its own: `ApiErrorAnswers({ statusCode: 400, ..., field: 'userId' }, 413, 415, 503)`.
 */
export function ApiErrorAnswers(...answers: Array<ErrorStatus | ErrorBody>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...answers.map((answer) => {
      const status = (typeof answer === 'number' ? answer : answer.statusCode) as ErrorStatus;
      return errorApiResponse(status, typeof answer === 'number' ? ERROR_ANSWERS[status].example : answer, ERROR_ANSWERS[status].description);
    }),
  );
}

function errorApiResponse(status: ErrorStatus, example: ErrorBody, description: string): MethodDecorator & ClassDecorator {
  const { headers } = ERROR_ANSWERS[status];
  return ApiResponse({ status, description, type: status === 400 ? BadRequestAnswer : ErrorAnswer, example, ...(headers ? { headers } : {}) });
}

/** A user route: a user token in `Authorization: Bearer`, the `access_token` cookie or `?access_token`; 401 without one. */
export function ApiUserAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(SECURITY_SCHEMES.userBearer), ApiCookieAuth(SECURITY_SCHEMES.userCookie), ApiSecurity(SECURITY_SCHEMES.userQuery), ApiErrorAnswers(401));
}

/** An internal route: `X-Api-Key` with INTERNAL_API_KEY; 401 without it. */
export function ApiInternalAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiSecurity(SECURITY_SCHEMES.internalApiKey),
    errorApiResponse(
      401,
      { statusCode: 401, error: 'Unauthorized', message: 'missing X-Api-Key' },
      'A missing or wrong `X-Api-Key`, or internal endpoints disabled (`INTERNAL_API_KEY` is not set).',
    ),
  );
}
