import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { type Feature, MODEL_VERSION, REPLAYABLE_VERSIONS } from './config';
import type { ModelHarness } from './harness';
import type { Regression } from './regressions';

/*
 * What the jest entry and the CLI share: replaying recorded failures, the
 * seeded exploration, and a failure report a person can act on (seed, path,
 * the command to replay it, the shrunk steps and what each client saw).
 */

export interface Outcome {
  ok: boolean;
  seed: number;
  runs: number;
  shrinks: number;
  ms: number;
  path?: string;
  replayPath?: string;
  /** The ModelViolation report of the smallest failing schedule (or the error). */
  message?: string;
  /** fast-check's rendering of the shrunk commands. */
  counterexample?: string;
}

export async function explore(
  harness: ModelHarness,
  seed: number,
  runs: number,
  excluded: ReadonlySet<Feature>,
  replay?: { path: string; replayPath?: string; version?: number },
): Promise<Outcome> {
  harness.resetShrinkBudget();
  harness.replayLeft = replay ? 1 : null;
  const started = performance.now();
  const details = await fc.check(harness.property(excluded, replay?.replayPath, replay?.version), {
    seed,
    numRuns: replay ? 1 : runs,
    ...(replay ? { path: replay.path, endOnFailure: true } : {}),
  }).finally(() => {
    harness.replayLeft = null;
  });
  const outcome: Outcome = { ok: !details.failed, seed, runs: details.numRuns, shrinks: details.numShrinks, ms: Math.round(performance.now() - started) };
  if (!details.failed) return outcome;
  const [users, steps] = (details.counterexample ?? [undefined, undefined]) as [number | undefined, unknown];
  const rendered = steps === undefined ? '' : String(steps);
  const replayPath = /\/\*replayPath=("[^"]*")\*\//.exec(rendered)?.[1];
  return {
    ...outcome,
    path: details.counterexamplePath ?? undefined,
    replayPath: replayPath ? (JSON.parse(replayPath) as string) : undefined,
    // A violation's message is its report; anything else is the harness failing, so its stack helps.
    message:
      details.errorInstance instanceof Error
        ? details.errorInstance.name === 'ModelViolation' || details.errorInstance.constructor.name === 'ModelViolation'
          ? details.errorInstance.message
          : (details.errorInstance.stack ?? details.errorInstance.message)
        : String(details.errorInstance ?? 'interrupted'),
    counterexample: `${users} users; ${rendered.replace(/\s*\/\*replayPath=.*\*\/$/, '')}`,
  };
}

/**
 * Replays each recorded failure once (no shrinking), with the features it was
 * recorded without and the arbitraries of the model version it was recorded
 * under; entries of a version arbitraries.ts no longer builds are reported as stale.
 */
export async function replayRegressions(harness: ModelHarness, regressions: Regression[], log: (line: string) => void): Promise<Array<{ regression: Regression; outcome: Outcome | null }>> {
  const results: Array<{ regression: Regression; outcome: Outcome | null }> = [];
  for (const regression of regressions) {
    if (!REPLAYABLE_VERSIONS.includes(regression.model)) {
      log(`regression seed=${regression.seed} path=${regression.path}: STALE (recorded for model ${regression.model}, this is model ${MODEL_VERSION}; re-record it)`);
      results.push({ regression, outcome: null });
      continue;
    }
    const excluded = new Set(regression.exclude ?? []);
    const outcome = await explore(harness, regression.seed, 1, excluded, { path: regression.path, replayPath: regression.replayPath, version: regression.model });
    log(`regression seed=${regression.seed} path=${regression.path} (${regression.note}): ${outcome.ok ? 'passes' : 'FAILS'} in ${outcome.ms} ms`);
    results.push({ regression, outcome });
  }
  return results;
}

export function formatFailure(outcome: Outcome, excluded: ReadonlySet<Feature>): string {
  const exclude = excluded.size > 0 ? ` --exclude ${[...excluded].join(',')}` : '';
  return [
    `MODEL FAILURE: seed=${outcome.seed} path=${JSON.stringify(outcome.path)} replayPath=${JSON.stringify(outcome.replayPath)} (${outcome.runs} schedules, shrunk ${outcome.shrinks} times)`,
    `replay: node -r ts-node/register/transpile-only test/model/run.ts --seed ${outcome.seed} --path '${outcome.path}'${outcome.replayPath ? ` --replay-path '${outcome.replayPath}'` : ''}${exclude}`,
    `shrunk steps (fast-check): ${outcome.counterexample}`,
    outcome.message ?? '',
  ].join('\n');
}

/** The entry to paste into regressions.ts (the CLI appends it by itself). */
export function regressionEntry(outcome: Outcome, excluded: ReadonlySet<Feature>, note: string): string {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const fields = [
    `seed: ${outcome.seed}`,
    `path: ${quote(outcome.path ?? '')}`,
    ...(outcome.replayPath ? [`replayPath: ${quote(outcome.replayPath)}`] : []),
    ...(excluded.size > 0 ? [`exclude: [${[...excluded].map(quote).join(', ')}]`] : []),
    `model: ${MODEL_VERSION}`,
    `note: ${quote(note)}`,
  ];
  return `  { ${fields.join(', ')} },`;
}

/** Appends a failure to regressions.ts, above its marker line, unless that seed and path are there already. */
export function recordRegression(outcome: Outcome, excluded: ReadonlySet<Feature>, note: string): boolean {
  const file = path.join(__dirname, 'regressions.ts');
  const text = fs.readFileSync(file, 'utf8');
  const escaped = (outcome.path ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (new RegExp(`seed: ${outcome.seed},\\s*path: '${escaped}'`).test(text)) return false;
  const marker = '  // new regressions above this line';
  fs.writeFileSync(file, text.replace(marker, `${regressionEntry(outcome, excluded, note)}\n${marker}`));
  return true;
}

/** The first violation line, as a short note for the regression entry. */
export function firstViolation(outcome: Outcome): string {
  const line = (outcome.message ?? '').split('\n').find((text) => text.startsWith('  - ')) ?? outcome.message ?? '';
  return line
    .replace(/^\s*- /, '')
    .replace(/m\d+[a-z0-9]*-u\d|ü-用户-[^ ]*-🚀/g, '<user>')
    .replace(/\d{13}-\d+/g, '<id>')
    .slice(0, 120);
}
