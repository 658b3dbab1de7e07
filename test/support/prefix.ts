let counter = 0;

/** A Redis key prefix no other test, worker or run uses: `rtg-test-<run>-<worker>-<n>`. */
export function uniquePrefix(): string {
  return `rtg-test-${process.env.RTG_TEST_RUN ?? 'local'}-${process.env.JEST_WORKER_ID ?? '0'}-${++counter}`;
}

/** A fresh user id, so tests never see each other's notifications. */
export function randomUserId(label = 'user'): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}
