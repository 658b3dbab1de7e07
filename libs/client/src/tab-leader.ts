/** The part of the Web Locks API (`navigator.locks`) the election uses. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

/** The part of `BroadcastChannel` the tabs talk over. */
export interface ChannelLike {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

/** `single`: this tab connects for itself. `leader`: it connects for every tab. `follower`: it uses the leader's connections. */
export type TabRole = 'single' | 'leader' | 'follower';

export interface TabSharing {
  readonly locks: LockManagerLike | null;
  readonly openChannel: ((name: string) => ChannelLike) | null;
}

/** What this environment offers: both in browsers (Web Locks need a secure context: https or localhost); neither in Node. */
export function detectTabSharing(): TabSharing {
  const scope = globalThis as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: new (name: string) => ChannelLike; document?: unknown };
  const locks = scope.document !== undefined ? (scope.navigator?.locks ?? null) : null;
  const Channel = scope.BroadcastChannel;
  return { locks, openChannel: locks !== null && Channel ? (name) => new Channel(name) : null };
}

/**
 * Elects one tab per name (same origin, same user) to hold the connections, with a
 * Web Lock: the leader holds the lock for as long as it lives, and every other tab
 * waits in the lock's queue, so when the leader closes or crashes the browser
 * grants it to the next tab, which becomes the leader. No heartbeats and no
 * timeouts: the browser knows when a tab is gone. Without Web Locks or
 * BroadcastChannel (Node, an insecure origin) every client is `single`.
 */
export class TabLeader {
  private channel: ChannelLike | null = null;
  private release: (() => void) | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private currentRole: TabRole | null = null;

  constructor(
    private readonly name: string,
    private readonly sharing: TabSharing,
  ) {}

  get role(): TabRole | null {
    return this.currentRole;
  }

  /** Starts the election; `onRole` is called with each role this tab takes, `onMessage` with what other tabs post. */
  start(onRole: (role: TabRole) => void, onMessage: (message: unknown) => void): void {
    const { locks, openChannel } = this.sharing;
    const become = (role: TabRole) => {
      if (this.stopped || this.currentRole === role) return;
      this.currentRole = role;
      onRole(role);
    };
    if (locks === null || openChannel === null) {
      become('single');
      return;
    }
    this.channel = openChannel(this.name);
    this.channel.onmessage = (event) => {
      if (!this.stopped) onMessage(event.data);
    };
    // Held until stop(): the lock is the leadership.
    const lead = () =>
      new Promise<void>((resolve) => {
        if (this.stopped) return resolve();
        this.release = resolve;
        become('leader');
      });
    locks
      .request(this.name, { ifAvailable: true }, async (lock) => {
        if (lock) return lead();
        become('follower');
        // Queue for the lock; granted when the leader goes.
        locks.request(this.name, { signal: this.abort.signal }, lead).catch(() => undefined);
        return undefined;
      })
      .catch(() => {
        // A browser that refuses locks here (e.g. a sandboxed frame): connect alone.
        this.channel?.close();
        this.channel = null;
        become('single');
      });
  }

  /** Posts to every other tab of this name (BroadcastChannel never echoes to the sender). */
  post(message: unknown): void {
    this.channel?.postMessage(message);
  }

  /** Gives up the lock (the next tab takes over) or leaves the queue, and closes the channel. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.release?.();
    this.release = null;
    this.channel?.close();
    this.channel = null;
  }
}
