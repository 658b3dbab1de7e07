import { parseExcluded, SETTINGS } from './config';
import { ModelHarness } from './harness';
import { REGRESSIONS } from './regressions';
import { SCENARIOS } from './scenarios';
import { explore, firstViolation, formatFailure, regressionEntry, replayRegressions } from './runner';

/*
 * The delivery promise, checked by a seeded random scheduler against two real
 * gateway processes and the real Redis (see test/model/*.ts): a user gets
 * every notification that is theirs, once, in order, and nothing that is not,
 * whatever happens to their connection, cursor, reader speed or instance.
 * The fixed scenarios and the recorded regressions replay first; then
 * SETTINGS.ciRuns schedules from a fixed seed (MODEL_SEED / MODEL_RUNS /
 * MODEL_EXCLUDE override them).
 * Longer runs: test/model/run.ts.
 */

const seed = Number(process.env.MODEL_SEED ?? SETTINGS.ciSeed);
const runs = Number(process.env.MODEL_RUNS ?? SETTINGS.ciRuns);
const excluded = parseExcluded(process.env.MODEL_EXCLUDE);
const log = (line: string) => process.stdout.write(`${line}\n`);

describe('delivery model (two gateways, real Redis)', () => {
  let harness: ModelHarness;

  beforeAll(async () => {
    // global-setup built dist/ for this run; the fleet runs a private copy of it.
    harness = await ModelHarness.start({ log });
  }, 60_000);

  afterAll(async () => {
    if (harness) log(`delivery model, what the run exercised:\n${harness.describeTally()}`);
    await harness?.stop();
  }, 30_000);

  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))(
    'scenario: %s',
    async (_name, scenario) => {
      const report = await harness.scenario(scenario.steps());
      if (report !== null) throw new Error(report);
    },
    60_000,
  );

  if (REGRESSIONS.length > 0) {
    it.each(REGRESSIONS.map((regression) => [`seed ${regression.seed} path ${regression.path}: ${regression.note}`, regression] as const))(
      'regression %s',
      async (_name, regression) => {
        const [{ outcome }] = await replayRegressions(harness, [regression], log);
        if (outcome && !outcome.ok) throw new Error(formatFailure(outcome, new Set(regression.exclude ?? [])));
      },
      120_000,
    );
  }

  it(`${runs} random schedules from seed ${seed}`, async () => {
    const outcome = await explore(harness, seed, runs, excluded);
    log(`delivery model: ${outcome.runs} schedules in ${(outcome.ms / 1000).toFixed(1)} s (${harness.schedules} run in all, shrinking included)`);
    if (!outcome.ok) {
      const entry = regressionEntry(outcome, excluded, `${new Date().toISOString().slice(0, 10)}: ${firstViolation(outcome)}`);
      throw new Error(`${formatFailure(outcome, excluded)}\n\nadd to test/model/regressions.ts:\n${entry}`);
    }
  }, 600_000);
});
