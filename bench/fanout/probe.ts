/*
 * Preloaded (`node --expose-gc -r probe.js <server>`) into every server under
 * test, the gateway and the references alike, so that the product carries no
 * benchmark hooks. Over the IPC channel it answers `{ cmd: 'probe' }` with the
 * process's memory after a full GC and its CPU time so far.
 */

/** The probe's answers: to `probe` (memory after GC, CPU) and to `cpu` (CPU only, no GC). */
export type ProbeReply = { readonly probe: { rss: number; heapUsed: number; external: number; cpuUs: number } } | { readonly cpuUs: number };

const collect = (globalThis as { gc?: () => void }).gc;

/**
 * Short-lived garbage, several times the young generation (2 × 16 MB, pinned by
 * the flags in server-process.ts): every page of both semi-spaces is then
 * resident at each probe, so RSS before and after the connections differ by
 * what the connections hold, not by how far the young generation had been touched.
 */
function churn(): void {
  let keep = 0;
  for (let i = 0; i < 1_000_000; i++) keep += [i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7].length;
  if (keep < 0) throw new Error('unreachable');
}

const cpuUs = () => {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
};

process.on('message', (message: { cmd?: string }) => {
  if (message?.cmd === 'cpu') {
    process.send?.({ cpuUs: cpuUs() } satisfies ProbeReply);
    return;
  }
  if (message?.cmd !== 'probe') return;
  churn();
  // Twice: the first full GC can leave garbage that only finalizers freed.
  collect?.();
  collect?.();
  const memory = process.memoryUsage();
  process.send?.({ probe: { rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, cpuUs: cpuUs() } } satisfies ProbeReply);
});
// The IPC channel alone must not keep a server alive, ...
process.channel?.unref();
// ... and a server whose orchestrator died (even by SIGKILL) stops as if told to.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
