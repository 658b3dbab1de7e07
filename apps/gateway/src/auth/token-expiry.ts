/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpired` when `expiresAt` (epoch ms) is reached, however far away it
 * is; returns the function that cancels it. A null expiry never fires.
 */
export function onTokenExpiry(expiresAt: number | null, onExpired: () => void): () => void {
  if (expiresAt === null) return () => undefined;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const remaining = expiresAt - Date.now();
    timer = remaining > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(onExpired, Math.max(remaining, 0));
  };
  arm();
  return () => clearTimeout(timer);
}
