/**
 * One progress line on stderr, rewritten in place with \r on a terminal:
 * a bar over the whole run (weighted by each step's expected seconds), the
 * elapsed time, the step and its detail. Off a terminal (CI logs), one line
 * per step instead, so logs stay readable.
 */
export class ProgressBar {
  private doneWeight = 0;
  private stepWeight = 0;
  private fraction = 0;
  private step = '';
  private detail = '';
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly totalWeight: number) {}

  /** Starts a step worth `weight` (its expected seconds) of the whole run. */
  begin(step: string, weight: number): void {
    this.doneWeight += this.stepWeight;
    this.stepWeight = weight;
    this.fraction = 0;
    this.step = step;
    this.detail = '';
    if (this.tty) this.draw(true);
    else process.stderr.write(`[${String(this.percent()).padStart(3)}% ${this.clock()}] ${step}\n`);
  }

  update(fraction: number, detail = ''): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    this.detail = detail;
    if (this.tty) this.draw(false);
  }

  /** A line of its own above the bar, with the run's elapsed time. */
  log(line: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${this.clock()} ${line}\n`);
    if (this.tty) this.draw(true);
  }

  finish(): void {
    this.doneWeight = this.totalWeight;
    this.stepWeight = 0;
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  private clock(): string {
    const elapsed = Math.round((Date.now() - this.started) / 1000);
    return `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
  }

  private percent(): number {
    const done = this.doneWeight + this.stepWeight * this.fraction;
    return Math.min(100, Math.floor((done / Math.max(1, this.totalWeight)) * 100));
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const percent = this.percent();
    const filled = Math.round((percent / 100) * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${this.clock()}  ${this.step}${this.detail ? `: ${this.detail}` : ''}`;
    const columns = process.stderr.columns || 120;
    process.stderr.write(`\r\x1b[K${line.slice(0, columns - 1)}`);
  }
}
