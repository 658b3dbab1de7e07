/*
 * Readers for test/ops-kit.e2e-spec.ts: Debian's promtool, the metric names and
 * label matchers of a PromQL expression, and the repo's Prometheus rule files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------
// promtool

export function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'promtool is not installed, and the alerts cannot be checked without it: install Debian\'s prometheus package ' +
        '(`sudo apt-get install -y prometheus`, which .ci/run does when promtool is missing)',
    );
  }
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

// ---------------------------------------------------------------------------------------------
// PromQL: the metric names and label matchers of an expression

const PROMQL_KEYWORDS = new Set([
  ...['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan'],
  // Aggregations may be followed by `by (...)` rather than by their parenthesis.
  ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile'],
]);

const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;

/** Metric names an expression selects: identifiers that are no function, keyword, label or duration. */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(STRING, '""')
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries (durations, Grafana's $__rate_interval)
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  // Not preceded by a digit, dot or `$` (1e3, 5m, $var); not followed by `(` (a function).
  for (const [name] of bare.matchAll(/(?<![\w:.$])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)) {
    if (!PROMQL_KEYWORDS.has(name)) names.add(name);
  }
  return [...names];
}

export type Matcher = { metric: string; label: string; op: string; value: string };

/** The label matchers of each `name{...}` selector of an expression. */
export function matchersIn(expr: string): Matcher[] {
  const matchers: Matcher[] = [];
  for (const [, metric, body] of expr.matchAll(/([A-Za-z_:][\w:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g)) {
    for (const [, label, op, value] of body.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.push({ metric, label, op, value });
    }
  }
  return matchers;
}

// ---------------------------------------------------------------------------------------------
// The rule files. They are our own, in one layout, read line by line (the project has no YAML
// parser); `promtool check rules` counts the rules, and the count read here must agree with it.

export type Rule = { kind: 'alert' | 'record'; name: string; expr: string; fields: Record<string, string> };

export function readRules(file: string): Rule[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const rules: Rule[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const start = /^(\s*)- (alert|record):\s*(\S+)\s*$/.exec(line);
    if (start) {
      rules.push({ kind: start[2] as Rule['kind'], name: start[3], expr: '', fields: {} });
      continue;
    }
    const field = /^(\s*)(\w+):\s*(.*)$/.exec(line);
    const rule = rules[rules.length - 1];
    if (!field || !rule) continue;
    const [, indent, key, rawValue] = field;
    let value = rawValue.trim();
    if (value === '|' || value === '>') {
      // A block scalar: the lines indented deeper than its key.
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > indent.length)) block.push(lines[++i].trim());
      value = block.join('\n').trim();
    } else if (/^".*"$/.test(value)) {
      value = JSON.parse(value) as string;
    }
    if (key === 'expr') rule.expr = value;
    else rule.fields[key] = value;
  }
  return rules;
}
