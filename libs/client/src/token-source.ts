/** Where the client gets user tokens: a fixed one, or a function that fetches a fresh one. */
export interface TokenOptions {
  /** A fixed token; fine for scripts, but the connection ends when it expires. */
  readonly token?: string;
  /** Called for the first token and again whenever the current one expired or was refused. */
  readonly getToken?: () => string | Promise<string>;
}

interface Claims {
  sub?: unknown;
  exp?: unknown;
}

/** Reads a JWT's claims without verifying it (the server verifies); null if it is not a JWT. */
export function readJwtClaims(token: string): Claims | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const binary = atob(base64);
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? (claims as Claims) : null;
  } catch {
    return null;
  }
}

/**
 * The current user token, shared by every transport of a client. Concurrent
 * refreshes (SSE and Socket.IO both told `token-expired` at once) make one call
 * to `getToken`.
 */
export class TokenSource {
  private token: string | null;
  private pending: Promise<string> | null = null;

  constructor(private readonly options: TokenOptions) {
    if (!options.token && !options.getToken) throw new Error('createRealtimeClient needs token or getToken');
    this.token = options.token ?? null;
  }

  get current(): string | null {
    return this.token;
  }

  /** True when `refresh()` can give a different token. */
  get refreshable(): boolean {
    return this.options.getToken !== undefined;
  }

  /** The current token, fetching the first one if needed. */
  get(): Promise<string> {
    return this.token !== null ? Promise.resolve(this.token) : this.refresh();
  }

  /** A fresh token from `getToken` (the fixed token again when there is none). */
  refresh(): Promise<string> {
    const { getToken } = this.options;
    if (!getToken) return Promise.resolve(this.token as string);
    this.pending ??= (async () => {
      try {
        const token = await getToken();
        if (typeof token !== 'string' || token === '') throw new Error('getToken returned no token');
        this.token = token;
        return token;
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }

  /** The user id (`sub`) of the current token, or null. */
  subject(): string | null {
    const sub = this.token === null ? undefined : readJwtClaims(this.token)?.sub;
    return typeof sub === 'string' ? sub : null;
  }

  /** When the current token expires (epoch ms), or null if it does not say. */
  expiresAt(): number | null {
    const exp = this.token === null ? undefined : readJwtClaims(this.token)?.exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  }

  /** True when the token expires within `marginMs` (or already has). */
  expiresWithin(marginMs: number, now = Date.now()): boolean {
    const expiresAt = this.expiresAt();
    return expiresAt !== null && expiresAt - now <= marginMs;
  }
}
