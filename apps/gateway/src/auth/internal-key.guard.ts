import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { UnauthorizedError } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** Internal endpoints: `X-Api-Key` must equal INTERNAL_API_KEY; with no key configured, nothing passes. */
@Injectable()
export class InternalKeyGuard implements CanActivate {
  private readonly key: Buffer | null;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.key = config.internalApiKey === null ? null : Buffer.from(config.internalApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const given = context.switchToHttp().getRequest<Request>().headers['x-api-key'];
    if (this.key === null) throw new UnauthorizedError('internal endpoints are disabled: INTERNAL_API_KEY is not set');
    if (typeof given !== 'string') throw new UnauthorizedError('missing X-Api-Key');
    const candidate = Buffer.from(given);
    if (candidate.length !== this.key.length || !timingSafeEqual(candidate, this.key)) {
      throw new UnauthorizedError('invalid X-Api-Key');
    }
    return true;
  }
}
