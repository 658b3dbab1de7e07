// Preloaded into a gateway process by the churn test (NODE_OPTIONS="--expose-gc --require ...")
// so that the test can ask for a full garbage collection before it reads memory: SIGUSR2 runs
// gc() twice, then writes one line to stdout. Never used outside tests.
'use strict';
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc !== 'function') return;
  globalThis.gc();
  globalThis.gc();
  process.stdout.write(`gc done ${Date.now()}\n`);
});
