import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

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

/** The one request validator: unknown fields are refused, and a 400 names the first bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const { field, message } = firstError(errors);
      return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, field });
    },
  });
}
