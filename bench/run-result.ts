import type { CellPlan, CellResult } from './fanout/fanout-cell';
import type { MatchingResult } from './matching';
import type { PublishingResult } from './publishing';
import type { StormResult } from './storm/storm';
import type { TargetResult } from './report/targets';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly redis: string;
  /** 1-minute load average when the run started: how quiet the machine was. */
  readonly loadAverageAtStart: number;
}

/** Everything one `npm run bench` measured: written to bench/results/latest.json. */
export interface RunResult {
  readonly at: string;
  readonly mode: 'quick' | 'full';
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly plans: readonly CellPlan[];
  readonly fanout: readonly CellResult[];
  readonly matching: MatchingResult | null;
  /** Absent from results saved before the publishing phase existed. */
  readonly publishing?: PublishingResult | null;
  readonly storm?: StormResult | null;
  readonly targets: readonly TargetResult[];
  /** Cells that failed (system, N, error), so that a gap in the table has its reason. */
  readonly failures: readonly { system: string; connections: number; error: string }[];
}
