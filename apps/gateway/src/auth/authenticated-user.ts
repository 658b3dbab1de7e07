/** Who a request or connection acts for, from a verified user token. */
export interface AuthenticatedUser {
  readonly id: string;
  /** Token expiry in epoch milliseconds; null for a token without `exp`. */
  readonly expiresAt: number | null;
  /** The token's `rooms` claim: room ids and prefixes ending in `*` (empty when absent or malformed). */
  readonly rooms: readonly string[];
  /** The token's `topics` claim: topic names and prefixes ending in `*` (empty when absent or malformed). */
  readonly topics: readonly string[];
}
