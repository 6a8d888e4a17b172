import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ErrorCode } from '@orchestrator/contracts';

/** `field: reason` for each wrong query parameter, as the rest of the API names fields. */
function describe(errors: readonly ValidationError[]): string {
  return errors
    .flatMap((error) =>
      Object.entries(error.constraints ?? {}).map(([rule, message]) => {
        if (rule === 'whitelistValidation') return `${error.property}: is not a parameter of this route`;
        return `${error.property}: ${message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message}`;
      }),
    )
    .join('; ');
}

/** Validates a route's query against its DTO: unknown parameters refused, each problem named, `INVALID_REQUEST`. */
export function queryPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => new BadRequestException({ code: ErrorCode.InvalidRequest, message: describe(errors) }),
  });
}
