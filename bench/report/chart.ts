import type { CellResult } from '../fanout/fanout-cell';
import { SYSTEMS, type SystemId } from '../fanout/systems';
import type { RunResult } from '../run-result';

/** Gateway lines solid, references dashed; one colour per system. */
const STYLE: Record<SystemId, { color: string; dashed: boolean }> = {
  'gateway-sse': { color: '#d62728', dashed: false },
  'gateway-sse-topic': { color: '#8c564b', dashed: false },
  'bare-sse': { color: '#1f77b4', dashed: true },
  'better-sse': { color: '#2ca02c', dashed: true },
  'gateway-socketio': { color: '#ff7f0e', dashed: false },
  'gateway-socketio-topic': { color: '#e377c2', dashed: false },
  'bare-socketio': { color: '#9467bd', dashed: true },
};

const PANEL = { width: 440, height: 300, left: 70, right: 20, top: 40, bottom: 50 };

interface Series {
  readonly id: SystemId;
  readonly label: string;
  readonly points: [number, number][];
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round axis maximum (1, 2 or 5 × 10^k) at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) as number) * power;
}

const compact = (value: number) =>
  value >= 1e6 ? `${+(value / 1e6).toFixed(1)}M` : value >= 1e3 ? `${+(value / 1e3).toFixed(1)}k` : `${+value.toFixed(value < 10 ? 1 : 0)}`;

/** One line chart: y against N, one polyline (or a dot for a single N) per system. */
function panel(x0: number, title: string, series: Series[], ns: number[]): string {
  const plotWidth = PANEL.width - PANEL.left - PANEL.right;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, y]) => y))));
  const [nMin, nMax] = [Math.min(...ns), Math.max(...ns)];
  const sx = (n: number) => x0 + PANEL.left + (nMax === nMin ? plotWidth / 2 : ((n - nMin) / (nMax - nMin)) * plotWidth);
  const sy = (y: number) => PANEL.top + plotHeight - (y / yMax) * plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + PANEL.width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    parts.push(`<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + plotWidth}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 + PANEL.left - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${compact(y)}</text>`);
  }
  for (const n of ns) {
    parts.push(`<line x1="${sx(n)}" x2="${sx(n)}" y1="${PANEL.top}" y2="${PANEL.top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(n)}" y="${PANEL.top + plotHeight + 18}" text-anchor="middle" font-size="11">${n.toLocaleString('en-US')}</text>`);
  }
  parts.push(`<text x="${x0 + PANEL.left + plotWidth / 2}" y="${PANEL.height - 8}" text-anchor="middle" font-size="12">connections (N)</text>`);
  parts.push(`<rect x="${x0 + PANEL.left}" y="${PANEL.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`);
  for (const s of series) {
    const { color, dashed } = STYLE[s.id];
    const points = s.points.map(([n, y]) => `${sx(n).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (s.points.length > 1) parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [n, y] of s.points) parts.push(`<circle cx="${sx(n).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.label}, N=${n}: ${compact(y)}`)}</title></circle>`);
  }
  return parts.join('\n');
}

function seriesOf(cells: readonly CellResult[], value: (cell: CellResult) => number): Series[] {
  return SYSTEMS.map((system) => ({
    id: system.id,
    label: system.label,
    points: cells
      .filter((cell) => cell.system === system.id && Number.isFinite(value(cell)))
      .sort((a, b) => a.connections - b.connections)
      .map((cell) => [cell.connections, value(cell)] as [number, number]),
  })).filter((s) => s.points.length > 0);
}

/** docs/benchmarks.svg: fan-out deliveries/s and p99 latency against N, one line per system. Hand-written SVG, no chart library. */
export function renderChartSvg(result: RunResult): string {
  const ns = [...new Set(result.fanout.map((cell) => cell.connections))].sort((a, b) => a - b);
  if (ns.length === 0) ns.push(1000);
  const throughput = seriesOf(result.fanout, (cell) => cell.saturation.deliveriesPerSecond);
  const latency = seriesOf(result.fanout, (cell) => cell.latency.p99Ms);
  const legendY = PANEL.height + 10;
  const legend = SYSTEMS.map((system, i) => {
    const { color, dashed } = STYLE[system.id];
    const x = 20 + i * 178;
    return (
      `<line x1="${x}" x2="${x + 28}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
      `<text x="${x + 34}" y="${legendY + 4}" font-size="12">${escapeXml(system.label)}</text>`
    );
  }).join('\n');
  const width = PANEL.width * 2 + 20;
  const height = PANEL.height + 50;
  const caption = `${result.mode} run, ${result.at.slice(0, 10)}, ${result.machine.cores} cores shared by servers, load clients and Redis`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel(0, 'Fan-out deliveries/s at saturation', throughput, ns),
    panel(PANEL.width + 20, 'p99 latency, ms (1k: 10/s, 5k: 2/s, 10k: 1/s)', latency, ns),
    legend,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
