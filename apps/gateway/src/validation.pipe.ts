import { type ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { InvalidInputError, unsafeJsonField } from '@app/notifications';

/** Path of the first failing property, e.g. `limit` or `data.items.0`. */
function firstError(errors: ValidationError[], path = ''): { field: string; message: string } {
  const error = errors[0];
  const field = path ? `${path}.${error.property}` : error.property;
  if (error.constraints) {
    const message = Object.values(error.constraints)[0];
    return { field, message };
  }
  if (error.children?.length) return firstError(error.children, field);
  return { field, message: `${field} is invalid` };
}

/**
 * Refuses, before class-transformer walks them, bodies and queries nested
 * deeper than MAX_JSON_DEPTH (its recursion would overflow the stack: a 500)
 * and fields named `__proto__`, `constructor`, `prototype` or `toString` (it
 * would drop them silently rather than refuse an unknown field). Only for the
 * DTO classes it transforms: untyped parameters (`@Body() body: unknown`, and
 * Socket.IO `@MessageBody()`, which this global pipe also sees) are checked by
 * their own handlers, which answer in their own way (a socket gets an ack).
 */
class ShapeCheckingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && this.toValidate(metadata)) {
      const unsafe = unsafeJsonField(value, 'body');
      if (unsafe !== null) throw new InvalidInputError(unsafe.field, unsafe.message);
    }
    return super.transform(value, metadata);
  }
}

/** The one request validator: unknown fields are refused, and a 400 names the first bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ShapeCheckingValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const { field, message } = firstError(errors);
      return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, field });
    },
  });
}
