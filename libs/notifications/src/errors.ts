/**
 * Domain errors. They carry no HTTP status: each transport maps them to its own
 * wire form (400/401/403/404 for REST, `{ ok: false, error }` for socket acks,
 * `UnrecoverableError` for queue jobs).
 */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class UnauthorizedError extends Error {
  constructor(message = 'unauthorized') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** The user is who they say, but may not have this (a topic they do not follow): 403, ack `forbidden`. */
export class ForbiddenError extends Error {
  constructor(message = 'forbidden') {
    super(message);
    this.name = 'ForbiddenError';
  }
}
