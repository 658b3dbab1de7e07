/*
 * Reading a V8 .cpuprofile (`node --cpu-prof`): CPU time by package (whose
 * code was running: the innermost frame outside Node's own modules) and the
 * functions with the most self time, optionally within a time window.
 * `npm run bench -- --profile` writes one per gateway process and prints the
 * connect phase's breakdown; to read one by hand:
 *   node -r ts-node/register/transpile-only bench/report/cpu-profile.ts <file.cpuprofile> [fromUs toUs]
 * Profile timestamps are CLOCK_MONOTONIC µs, the clock of the bench's own stamps.
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

export interface CpuShare {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, and the part that was not idle. */
  readonly windowMs: number;
  readonly busyMs: number;
  readonly byPackage: CpuShare[];
  readonly topSelf: CpuShare[];
}

/** The package (or bundle) a frame's code belongs to; null for Node's own modules. */
function owner(url: string): string | null {
  if (!url || url.startsWith('node:')) return null;
  if (url.includes('/dist/apps/')) return `${/dist\/apps\/([^/]+)/.exec(url)?.[1]} bundle`;
  if (url.includes('/bench/')) return 'bench reference';
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url;
}

function place(frame: CallFrame): string {
  const where = frame.url ? `${frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${frame.lineNumber + 1}` : '(native)';
  return `${frame.functionName || '(anonymous)'} ${where}`;
}

function shares(totals: Map<string, number>, all: number, top: number): CpuShare[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: Math.round((us / Math.max(1, all)) * 1000) / 10 }));
}

/** Summarizes the samples taken between `fromUs` and `toUs` (the whole profile by default). */
export function summarizeProfile(file: string, fromUs = 0, toUs = Infinity, top = 15): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const packages = new Map<string, number>();
  const self = new Map<string, number>();
  let at = profile.startTime;
  let window = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    // A sample stands for the time until the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (at < fromUs || at > toUs) return;
    window += span;
    const leaf = byId.get(id)?.callFrame;
    if (!leaf) return;
    let name: string | null = leaf.functionName === '(idle)' ? 'idle' : leaf.functionName === '(garbage collector)' ? 'GC' : null;
    for (let node: number | undefined = id; name === null && node !== undefined; node = parent.get(node)) name = owner(byId.get(node)?.callFrame.url ?? '');
    name ??= 'node core';
    packages.set(name, (packages.get(name) ?? 0) + span);
    self.set(place(leaf), (self.get(place(leaf)) ?? 0) + span);
  });
  const busy = window - (packages.get('idle') ?? 0);
  packages.delete('idle');
  self.delete('(idle) (native)');
  return { windowMs: Math.round(window / 1000), busyMs: Math.round(busy / 1000), byPackage: shares(packages, busy, top), topSelf: shares(self, busy, top) };
}

if (require.main === module) {
  const [file, from, to] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpu-profile.ts <file.cpuprofile> [fromUs toUs]\n');
    process.exit(2);
  }
  const summary = summarizeProfile(file, from ? Number(from) : 0, to ? Number(to) : Infinity, 25);
  console.log(`${path.basename(file)}: ${summary.windowMs} ms sampled, ${summary.busyMs} ms busy`);
  console.log('\nCPU by package (innermost non-Node frame), % of busy time');
  for (const share of summary.byPackage) console.log(`${String(share.ms).padStart(7)} ms ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  console.log('\nself time by function');
  for (const share of summary.topSelf) console.log(`${String(share.ms).padStart(7)} ms ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
}
