import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { httpErrorAnswer } from './http-error-answer';

/** Every HTTP error as one JSON shape (see {@link httpErrorAnswer}). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly log = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      // A stream already under way cannot change its status: just end it.
      response.end();
      return;
    }
    const { status, body, retryAfterSeconds } = httpErrorAnswer(exception, this.log);
    if (retryAfterSeconds !== null) response.setHeader('Retry-After', String(retryAfterSeconds));
    response.status(status).json(body);
  }
}
