/*
 * `npm run bench`: the load benchmarks, quick (N=1,000, a smaller storm,
 * matching and publishing; a few minutes with the build) or `-- --full` (the
 * whole matrix).
 *
 * Processes: this orchestrator (publisher, progress, report), one server under
 * test at a time (the built gateway or a reference), two load-client
 * processes, and Redis: all on this machine's cores, which is stated in the
 * output because it bounds every figure.
 *
 * Options: --full, --write-docs (a quick run regenerates docs/benchmarks.* too),
 * --render=<results.json> (only regenerate docs/benchmarks.* from saved results),
 * --profile (every server runs with --cpu-prof into bench/results/profiles/, and
 * its CPU per open and per delivery is printed by package and by function for
 * one user's connects, N distinct users' connects and the saturation rounds), and for development
 * --no-matching, --no-publishing, --no-storm, --systems=<id,...>, --connections=<n,...>,
 * --storm=quick|full (the storm's size apart from the run's).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { compileFanout } from './fanout/compile';
import { estimateSeconds, runCell, type CellPlan, type CellResult } from './fanout/fanout-cell';
import { SYSTEMS } from './fanout/systems';
import { MATCHING_PLANS, matchingSeconds, runMatching } from './matching';
import { PUBLISHING_PLANS, publishingSeconds, runPublishing } from './publishing';
import { runStorm, STORM_PLANS, stormSeconds } from './storm/storm';
import { ProgressBar } from './progress-bar';
import { renderBenchmarksMarkdown } from './report/markdown';
import { renderChartSvg } from './report/chart';
import { fanoutTable, matchingTable, publishingTable, renderText, stormTable } from './report/rows';
import { evaluateTargets } from './report/targets';
import type { ProfileSummary } from './report/cpu-profile';
import type { MachineInfo, RunResult } from './run-result';
import { deletePrefix, installCleanup, redisUrl, root } from './support';

const args = process.argv.slice(2);
const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const full = args.includes('--full');
const docs = full || args.includes('--write-docs');
const profile = args.includes('--profile');

/** Latency-phase rates of the issue: 10 broadcasts/s at 1k connections, 2/s at 5k, 1/s at 10k. */
const LATENCY_RATE: Record<number, number> = { 1000: 10, 5000: 2, 10000: 1 };

/**
 * Saturation broadcasts per round and N: about 500,000 deliveries in a full run
 * (100,000 in a quick one), the same for every system at one N; three rounds,
 * the median counts, so that one burst of noise on a shared machine does not.
 */
function plan(connections: number): CellPlan {
  return {
    connections,
    latencyRate: LATENCY_RATE[connections] ?? Math.max(1, Math.round(10_000 / connections)),
    latencySeconds: full ? 30 : 5,
    saturationMessages: Math.max(50, Math.round((full ? 500_000 : 100_000) / connections)),
    saturationRounds: 3,
    // Enough broadcasts in flight to keep every system busy, few enough (≈10 KB per
    // connection) that no system's slow-client cut-off is ever reached.
    window: 32,
    connectConcurrency: 200,
    clientProcesses: 2,
  };
}

async function describeMachine(): Promise<MachineInfo> {
  let redis = 'unknown';
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    redis = /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? redis;
  } finally {
    client.disconnect();
  }
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis,
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

function writeDocs(result: RunResult): void {
  fs.writeFileSync(path.join(root, 'docs/benchmarks.md'), renderBenchmarksMarkdown(result));
  fs.writeFileSync(path.join(root, 'docs/benchmarks.svg'), renderChartSvg(result));
  console.log('regenerated docs/benchmarks.md and docs/benchmarks.svg');
}

async function main(): Promise<void> {
  const saved = option('render');
  if (saved) return writeDocs(JSON.parse(fs.readFileSync(saved, 'utf8')) as RunResult);
  const runId = randomBytes(3).toString('hex');
  const prefixes: string[] = [];
  const newPrefix = (label: string) => {
    const prefix = `rtg-bench-${runId}-${label}`;
    prefixes.push(prefix);
    return prefix;
  };
  const cleanup = async () => {
    for (const prefix of prefixes) await deletePrefix(prefix).catch(() => undefined);
  };
  installCleanup(cleanup);
  try {
    await measureAndReport(runId, newPrefix);
  } finally {
    await cleanup();
  }
}

async function measureAndReport(runId: string, newPrefix: (label: string) => string): Promise<void> {
  const started = Date.now();

  const script = compileFanout();
  const machine = await describeMachine();
  const connectionCounts = option('connections')?.split(',').map(Number) ?? (full ? [1000, 5000, 10000] : [1000]);
  const systemIds = option('systems')?.split(',');
  const systems = SYSTEMS.filter((system) => !systemIds || systemIds.includes(system.id));
  const plans = connectionCounts.map(plan);
  const withMatching = !args.includes('--no-matching');
  const matchingPlan = MATCHING_PLANS[full ? 'full' : 'quick'];
  const withPublishing = !args.includes('--no-publishing');
  const publishingPlan = PUBLISHING_PLANS[full ? 'full' : 'quick'];
  const withStorm = !args.includes('--no-storm');
  const stormSize = option('storm') ?? (full ? 'full' : 'quick');
  if (stormSize !== 'quick' && stormSize !== 'full') throw new Error(`--storm takes quick or full, not ${JSON.stringify(stormSize)}`);
  const stormPlan = STORM_PLANS[stormSize];
  const totalWeight =
    plans.reduce((sum, p) => sum + systems.length * estimateSeconds(p), 0) +
    (withMatching ? matchingSeconds(matchingPlan) : 0) +
    (withPublishing ? publishingSeconds(publishingPlan) : 0) +
    (withStorm ? stormSeconds(stormPlan) : 0);
  const profileDir = profile ? path.join(root, 'bench/results/profiles', runId) : undefined;

  process.stderr.write(
    `realtime-gateway benchmarks, ${full ? 'full matrix' : 'quick (N=1,000 only, smaller storm, matching and publishing; --full for the whole matrix)'}\n` +
      `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, Redis ${machine.redis}, load ${machine.loadAverageAtStart}\n` +
      `Load clients (2 processes), the server under test, the publisher and Redis all share these ${machine.cores} cores: ` +
      `every figure is bounded by that, and the ratios compare systems measured the same way in this run.\n`,
  );

  const bar = new ProgressBar(totalWeight);
  const fanout: CellResult[] = [];
  const failures: RunResult['failures'][number][] = [];
  for (const cellPlan of plans) {
    for (const system of systems) {
      const stepLabel = `${system.label}, N=${cellPlan.connections.toLocaleString('en-US')}`;
      try {
        const cell = await runCell(system, cellPlan, { script, redisPrefix: newPrefix(`${system.id}-${cellPlan.connections}`), bar, stepLabel, profileDir });
        fanout.push(cell);
        bar.log(
          `${stepLabel}: ${cell.connect.perSecond.toLocaleString('en-US')} connects/s, ` +
            `${(cell.memory.rssPerConnectionBytes / 1024).toFixed(1)} KB/conn, ` +
            `${cell.saturation.deliveriesPerSecond.toLocaleString('en-US')} deliveries/s, ` +
            `p99 ${cell.latency.p99Ms} ms` +
            (cell.latency.publishFailures + cell.saturation.publishFailures > 0
              ? `, ${cell.latency.publishFailures + cell.saturation.publishFailures} failed publishes (${cell.publishErrors.join('; ')})`
              : ''),
        );
        if (cell.profile) logProfile(cell, bar);
      } catch (error) {
        failures.push({ system: system.id, connections: cellPlan.connections, error: (error as Error).message });
        bar.log(`${stepLabel}: FAILED: ${(error as Error).message}`);
      }
    }
  }

  /** One phase after the fan-out: its result, or null with its failure recorded, so that one broken phase spares the others. */
  const phase = async <T>(wanted: boolean, name: string, run: () => Promise<T>): Promise<T | null> => {
    if (!wanted) return null;
    try {
      return await run();
    } catch (error) {
      failures.push({ system: name, connections: 0, error: (error as Error).message });
      bar.log(`${name}: FAILED: ${(error as Error).message}`);
      return null;
    }
  };
  const matching = await phase(withMatching, 'matching', () => runMatching(matchingPlan, newPrefix('matching'), bar));
  const publishing = await phase(withPublishing, 'publishing', () => runPublishing(publishingPlan, newPrefix('publishing'), bar, profileDir && path.join(profileDir, 'publishing')));
  const storm = await phase(withStorm, 'storm', () => runStorm(stormPlan, newPrefix('storm'), bar));
  bar.finish();

  const result: RunResult = {
    at: new Date().toISOString(),
    mode: full ? 'full' : 'quick',
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine,
    plans,
    fanout,
    matching,
    publishing,
    storm,
    targets: evaluateTargets({ cells: fanout, matching, publishing, storm }, !full),
    failures,
  };

  printReport(result);
  const resultsDir = path.join(root, 'bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), json);
  console.log(`\nraw figures: bench/results/latest.json`);
  if (full) {
    // The raw figures behind the committed docs/benchmarks.md (latest.json is local: every run replaces it).
    fs.writeFileSync(path.join(resultsDir, 'full.json'), json);
    console.log('and bench/results/full.json (the figures behind docs/benchmarks.md)');
  }
  if (docs) writeDocs(result);
  else {
    console.log('docs/benchmarks.md left as is (it shows a full run): --write-docs to regenerate it from this run');
  }
  if (failures.length > 0) process.exitCode = 1;
}

function printReport(result: RunResult): void {
  console.log(
    `\nFan-out (${result.mode} run; ${result.machine.cores} cores shared by the server, 2 load-client processes, the publisher and Redis)`,
  );
  console.log('Ratios are to the bare baseline of the same transport, measured in this run. Latency: 1k at 10/s, 5k at 2/s, 10k at 1/s.');
  console.log(renderText(fanoutTable(result.fanout)));
  if (result.matching) {
    const plan = result.matching.plan;
    console.log(
      `\nMatching${result.mode === 'quick' ? ` (reduced: ${plan.sizes.map((size) => size.toLocaleString('en-US')).join(', ')} saved searches instead of 10,000, 100,000 and 1,000,000)` : ''}: ` +
        `${plan.burstPostings} postings at once per size for postings/s; ${plan.pacedPostings} at ${plan.pacedRate}/s for enqueue → SSE latency`,
    );
    console.log(renderText(matchingTable(result.matching)));
  }
  if (result.publishing) {
    console.log('\nPublishing job-matches: notifications stored and published per second, against the append script pipelined');
    console.log(renderText(publishingTable(result.publishing)));
  }
  if (result.storm) {
    console.log('\nReconnect storm: gateway A gets SIGTERM with every client on it, behind nginx');
    console.log(renderText(stormTable(result.storm)));
    if (result.storm.nginxErrorLog) console.log(`nginx's error log of the storm: ${result.storm.nginxErrorLog}`);
  }
  console.log('\nTargets');
  for (const target of result.targets) {
    const verdict = target.met === null ? 'n/a   ' : target.met ? 'met   ' : 'MISSED';
    console.log(`  ${verdict} ${target.target} (${target.scope}): ${target.measured ?? '–'} (required ${target.required})`);
  }
  for (const failure of result.failures) console.log(`  FAILED ${failure.system} N=${failure.connections}: ${failure.error}`);
}

main().catch((error) => {
  process.stderr.write(`\n${(error as Error).stack ?? error}\n`);
  process.exit(1);
});

/** Where the server's CPU went, per connection opened and per delivery, by package (--profile). */
function logProfile(cell: CellResult, bar: ProgressBar): void {
  const { profile } = cell;
  if (!profile) return;
  bar.log(`  CPU profile: ${profile.file}`);
  const deliveries = cell.saturation.expected * cell.saturation.roundsDeliveriesPerSecond.length;
  const windows: [string, ProfileSummary | null, number][] = [
    ['one user\'s connects', profile.connect, cell.connect.opened],
    ['distinct users\' connects', profile.connectUsers, cell.connectUsers?.opened ?? 0],
    ['saturation deliveries', profile.saturation, deliveries],
  ];
  for (const [name, summary, count] of windows) {
    if (summary === null || count === 0) continue;
    const each = (ms: number) => `${((ms * 1000) / count).toFixed(2)} µs`;
    bar.log(`  ${name}: ${each(summary.busyMs)} of CPU each (busy ${summary.busyMs} of ${summary.windowMs} ms)`);
    for (const share of summary.byPackage.slice(0, 8)) bar.log(`    ${each(share.ms).padStart(10)} ${String(share.percent).padStart(5)}%  ${share.name}`);
    for (const share of summary.topSelf.slice(0, 5)) bar.log(`    ${each(share.ms).padStart(10)} ${String(share.percent).padStart(5)}%  self: ${share.name}`);
  }
}
