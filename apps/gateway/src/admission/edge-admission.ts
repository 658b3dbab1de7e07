import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { UserTokenVerifier } from '../auth/user-token.verifier';
import { ConnectionRefusedError } from '../connections/connection-refused.error';
import { type ConnectionSlot, LiveConnections } from '../connections/live-connections';
import { type CredentialSources, readUserToken } from './user-credentials';

/**
 * The admission step every channel takes (REST guard, the event stream served
 * ahead of Express, the Socket.IO handshake): who the user is, and whether a
 * long-lived connection of theirs may open. Each channel only says where its
 * credentials are and how it answers a refusal; the rules are here and in the
 * files beside this one (origins, credentials, cursors, query parameters).
 */
@Injectable()
export class EdgeAdmission {
  private readonly allowedOrigins: readonly string[];

  constructor(
    private readonly verifier: UserTokenVerifier,
    private readonly live: LiveConnections,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.allowedOrigins = config.corsOrigins;
  }

  /** The user a request or handshake acts for; throws UnauthorizedError (401, `connect_error` `unauthorized`). */
  authenticate(sources: CredentialSources): AuthenticatedUser {
    return this.verifier.verify(readUserToken(sources, this.allowedOrigins));
  }

  /**
   * A slot for a long-lived connection of the user (SSE stream or socket),
   * counted against MAX_CONNECTIONS_PER_USER and MAX_CONNECTIONS_PER_INSTANCE;
   * throws ConnectionRefusedError over a cap or while draining.
   */
  admitConnection(user: AuthenticatedUser): ConnectionSlot {
    const slot = this.live.admit(user.id);
    if (typeof slot === 'string') throw new ConnectionRefusedError(slot);
    return slot;
  }
}
