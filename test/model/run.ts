/*
 * The model checker from the command line, for long runs and replays:
 *
 *   node -r ts-node/register/transpile-only test/model/run.ts --runs 5000 --seed 42
 *   node -r ts-node/register/transpile-only test/model/run.ts --seed 42 --path '17:3:0' --replay-path 'CD'
 *
 * Options: --runs N (200), --seed N (random), --path P and --replay-path R
 * (replay one schedule; --model N: recorded under model version N), --exclude a,b (leave features out, see config.ts),
 * --bundle FILE (a built gateway, default: build dist/ now), --no-record (do
 * not append failures to regressions.ts), --no-regressions (skip replaying
 * them), --scenario TEXT [--repeat N] (only the fixed scenarios whose name
 * contains TEXT, N times each: for a race). Redis: REDIS_URL, else
 * 127.0.0.1:6379. Exit code 1 on any failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseExcluded } from './config';
import { ModelHarness } from './harness';
import { REGRESSIONS } from './regressions';
import { SCENARIOS } from './scenarios';
import { explore, firstViolation, formatFailure, recordRegression, replayRegressions } from './runner';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

async function main(): Promise<number> {
  const runs = Number(option('runs') ?? 200);
  const seed = Number(option('seed') ?? randomBytes(4).readUInt32BE() >> 1);
  const replayPath = option('path');
  const excluded = parseExcluded(option('exclude') ?? process.env.MODEL_EXCLUDE);
  let bundle = option('bundle');
  if (bundle === undefined) {
    const root = path.resolve(__dirname, '../..');
    process.stdout.write('building the gateway bundle (nest build gateway)...\n');
    execFileSync(path.join(root, 'node_modules/.bin/nest'), ['build', 'gateway'], { cwd: root, stdio: 'ignore' });
  }
  bundle = bundle ? path.resolve(bundle) : undefined;
  process.env.RTG_TEST_RUN ??= `model${randomBytes(3).toString('hex')}`;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const harness = await ModelHarness.start({ bundle, log });
  const progress = setInterval(() => log(`  ... ${harness.schedules} schedules so far`), 15_000);
  let failed = false;
  try {
    const only = option('scenario');
    if (only !== undefined) {
      let total = 0;
      const repeat = Number(option('repeat') ?? 1);
      for (const scenario of SCENARIOS.filter((candidate) => candidate.name.includes(only))) {
        let failures = 0;
        for (let i = 0; i < repeat; i++) {
          const report = await harness.scenario(scenario.steps());
          if (report !== null && failures++ === 0) log(`scenario "${scenario.name}" FAILS\n${report}`);
        }
        log(`scenario "${scenario.name}": ${failures} of ${repeat} run(s) failed`);
        total += failures;
      }
      return total > 0 ? 1 : 0;
    }
    if (replayPath !== undefined) {
      const version = option('model') === undefined ? undefined : Number(option('model'));
      const outcome = await explore(harness, seed, 1, excluded, { path: replayPath, replayPath: option('replay-path'), version });
      log(outcome.ok ? `seed=${seed} path=${replayPath}: passes now` : formatFailure(outcome, excluded));
      return outcome.ok ? 0 : 1;
    }
    if (!flag('no-regressions')) {
      log(`replaying ${SCENARIOS.length} fixed scenarios`);
      for (const scenario of SCENARIOS) {
        const report = await harness.scenario(scenario.steps());
        log(`scenario "${scenario.name}": ${report === null ? 'passes' : `FAILS\n${report}`}`);
        failed ||= report !== null;
      }
    }
    if (!flag('no-regressions') && REGRESSIONS.length > 0) {
      log(`replaying ${REGRESSIONS.length} recorded regression(s) first`);
      for (const { regression, outcome } of await replayRegressions(harness, REGRESSIONS, log)) {
        if (outcome && !outcome.ok) {
          failed = true;
          log(formatFailure(outcome, new Set(regression.exclude ?? [])));
        }
      }
    }
    log(`exploring: seed=${seed}, ${runs} schedules${excluded.size ? `, excluding ${[...excluded].join(',')}` : ''}`);
    const started = performance.now();
    const outcome = await explore(harness, seed, runs, excluded);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (outcome.ok) {
      log(`${outcome.runs} schedules passed in ${seconds} s (${harness.schedules} schedules run in all)`);
    } else {
      failed = true;
      log(formatFailure(outcome, excluded));
      log(`found after ${outcome.runs} schedules; ${seconds} s with shrinking`);
      if (!flag('no-record') && recordRegression(outcome, excluded, `${new Date().toISOString().slice(0, 10)}: ${firstViolation(outcome)}`)) {
        log('recorded in test/model/regressions.ts');
      }
    }
  } finally {
    clearInterval(progress);
    log(`what the run exercised:\n${harness.describeTally()}`);
    await harness.stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
