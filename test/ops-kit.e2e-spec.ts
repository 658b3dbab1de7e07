import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import request from 'supertest';
import { matchersIn, metricNamesIn, promtool, readRules } from './support/promql';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { testQueue } from './support/redis';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/**
 * The operations kit (issue 17): the Grafana dashboard and the Prometheus alerts
 * in deploy/ are checked with Debian's promtool and against the metric names a
 * real gateway exports, so that a renamed metric breaks this test instead of a
 * dashboard or an alert nobody looks at until it is needed.
 */

const ROOT = path.resolve(__dirname, '..');
const ALERTS = 'deploy/prometheus/alerts.yml';
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD = 'deploy/grafana/realtime-gateway.json';
const RUNBOOK_DOC = 'docs/deploy.md';

/** Series Prometheus adds to every scrape by itself: they are not in /metrics, but always exist. */
const SCRAPE_SERIES = new Set(['up']);
/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = new Set(['job', 'instance']);

type PanelTarget = { expr?: string; refId?: string };
type Panel = {
  id: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: PanelTarget[];
  panels?: Panel[];
};
type Dashboard = {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: { uid?: string } }> };
};

const dashboard = JSON.parse(readFileSync(path.join(ROOT, DASHBOARD), 'utf8')) as Dashboard;
/** Every panel, those inside collapsed rows included. */
const allPanels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const dataPanels = allPanels.filter((panel) => panel.type !== 'row');
const panelQueries = dataPanels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}" (${target.refId})`, expr: target.expr ?? '' })),
);
const rules = readRules(ALERTS);
const alerts = rules.filter((rule) => rule.kind === 'alert');
const alertQueries = rules.map((rule) => ({ where: `${rule.kind} ${rule.name}`, expr: rule.expr }));

/** Grafana's variables replaced by values PromQL accepts, to have promtool parse a panel's query. */
const withoutGrafanaVariables = (expr: string): string =>
  expr.replace(/\$__(?:rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+\}?/g, 'x');

describe('the operations kit (issue 17)', () => {
  describe('the PromQL readers of this test', () => {
    it('find metric names, not functions, keywords, labels, durations or variables', () => {
      expect(
        metricNamesIn(
          'histogram_quantile(0.99, sum by (channel, le) (rate(rtg_delivery_latency_seconds_bucket{job=~"$job", channel="sse"}[$__rate_interval]))) > 1e3',
        ),
      ).toEqual(['rtg_delivery_latency_seconds_bucket']);
      expect(metricNamesIn('sum by (job, instance) (a_total) > on (job, instance) 0.8 * b{scope="instance"} or vector(0) offset 5m')).toEqual(['a_total', 'b']);
      expect(metricNamesIn('max(a:b:rate5m) > on () group_left () (0.8 * c)')).toEqual(['a:b:rate5m', 'c']);
      expect(metricNamesIn('max(b) by (queue) / count without (x) (c{d="e{f}"}) and bool up')).toEqual(['b', 'c', 'up']);
      expect(matchersIn('rate(x_total{job=~"$job", result="failed"}[5m]) / y{channel!="sse"}')).toEqual([
        { metric: 'x_total', label: 'job', op: '=~', value: '$job' },
        { metric: 'x_total', label: 'result', op: '=', value: 'failed' },
        { metric: 'y', label: 'channel', op: '!=', value: 'sse' },
      ]);
    });
  });

  describe(`the alerts (${ALERTS})`, () => {
    it('pass `promtool check rules`, which counts as many rules as this test reads', () => {
      const { status, output } = promtool('check', 'rules', ALERTS);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(alerts.length).toBeGreaterThanOrEqual(5);
    });

    it(`pass their unit tests (\`promtool test rules ${ALERT_TESTS}\`)`, () => {
      const { status, output } = promtool('test', 'rules', ALERT_TESTS);
      expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    });

    it('are each unit-tested with an evaluation where they fire and one where they do not', () => {
      const text = readFileSync(path.join(ROOT, ALERT_TESTS), 'utf8');
      const firing = new Set<string>();
      const silent = new Set<string>();
      for (const [, name, expected] of text.matchAll(/alertname:\s*(\S+)\s*\n\s*exp_alerts:\s*(\[\]|\n\s*- exp_labels)/g)) {
        (expected === '[]' ? silent : firing).add(name);
      }
      for (const alert of alerts) {
        expect({ alert: alert.name, fires: firing.has(alert.name), stays_silent: silent.has(alert.name) }).toEqual({
          alert: alert.name,
          fires: true,
          stays_silent: true,
        });
      }
    });

    it(`wait (for:), carry a severity, a summary, a description and a runbook that is a section of ${RUNBOOK_DOC}`, () => {
      const doc = readFileSync(path.join(ROOT, RUNBOOK_DOC), 'utf8');
      // GitHub's anchors: the heading in lower case, punctuation dropped, spaces as hyphens.
      const anchors = new Set(
        [...doc.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading]) =>
          heading
            .trim()
            .toLowerCase()
            .replace(/[^\w\- ]/g, '')
            .replace(/ /g, '-'),
        ),
      );
      for (const alert of alerts) {
        const { for: wait, severity, summary, description, runbook_url: runbook } = alert.fields;
        expect({ alert: alert.name, wait, severity, summary, description, runbook }).toEqual({
          alert: alert.name,
          wait: expect.stringMatching(/^\d+[smh]$/),
          severity: expect.stringMatching(/^(critical|warning)$/),
          summary: expect.any(String),
          description: expect.any(String),
          runbook: `${RUNBOOK_DOC}#${alert.name.toLowerCase()}`,
        });
        expect({ alert: alert.name, anchorInDoc: anchors.has(alert.name.toLowerCase()) }).toEqual({ alert: alert.name, anchorInDoc: true });
      }
    });
  });

  describe(`the dashboard (${DASHBOARD})`, () => {
    it('takes its data source and instances from template variables', () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
      expect(variables.get('DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(variables.get('instance')).toMatchObject({ type: 'query', datasource: { uid: '${DS_PROMETHEUS}' } });
      const datasource = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
      for (const panel of dataPanels) expect({ panel: panel.title, datasource: panel.datasource }).toEqual({ panel: panel.title, datasource });
      // Every query follows the instance variable: the caps too come from each instance's /metrics.
      for (const { where, expr } of panelQueries) {
        expect({ where, filtersInstance: expr.includes('$instance') }).toEqual({ where, filtersInstance: true });
      }
    });

    it('gives every panel a title, every data panel a unit and at least one query, and every panel its own id', () => {
      for (const panel of allPanels) expect({ id: panel.id, title: panel.title }).toEqual({ id: panel.id, title: expect.stringMatching(/\S/) });
      for (const panel of dataPanels) {
        expect({ panel: panel.title, unit: panel.fieldConfig?.defaults?.unit, queries: panel.targets?.filter((target) => target.expr).length }).toEqual({
          panel: panel.title,
          unit: expect.stringMatching(/\S/),
          queries: expect.any(Number),
        });
        expect(panel.targets?.length).toBeGreaterThan(0);
      }
      for (const row of allPanels.filter((panel) => panel.type === 'row')) expect(row.targets ?? []).toEqual([]);
      expect(new Set(allPanels.map((panel) => panel.id)).size).toBe(allPanels.length);
    });

    it('has the panels issue 17 asks for', () => {
      const uses = (pattern: RegExp) => panelQueries.some(({ expr }) => pattern.test(expr));
      expect({
        connectionsPerChannel: uses(/sum by \(channel\) \(rtg_connections\{/),
        deliveriesPerSecond: uses(/rate\(rtg_notifications_delivered_total\{/),
        latencyP50: uses(/histogram_quantile\(0\.5, .*rtg_delivery_latency_seconds_bucket/),
        latencyP99: uses(/histogram_quantile\(0\.99, .*rtg_delivery_latency_seconds_bucket/),
        publishRate: uses(/rate\(rtg_notifications_published_total\{/),
        queueDepths: uses(/rtg_queue_jobs\{[^}]*waiting/),
        jobFailures: uses(/rtg_jobs_processed_total\{[^}]*result="failed"/),
        eventLoopLag: uses(/nodejs_eventloop_lag_p99_seconds/),
        liveDeliveryPerInstance: uses(/by \(instance\) \(rtg_live_delivery_up\{/),
        deliveryProbeRoundTrip: uses(/rtg_delivery_probe_seconds\{/),
        connectionCapPerInstance: uses(/rtg_connections_max\{[^}]*scope="instance"/),
      }).toEqual({
        connectionsPerChannel: true,
        deliveriesPerSecond: true,
        latencyP50: true,
        latencyP99: true,
        publishRate: true,
        queueDepths: true,
        jobFailures: true,
        eventLoopLag: true,
        liveDeliveryPerInstance: true,
        deliveryProbeRoundTrip: true,
        connectionCapPerInstance: true,
      });
      const unitOf = (metric: string) => dataPanels.filter((panel) => panel.targets?.some(({ expr }) => expr?.includes(metric))).map((panel) => panel.fieldConfig?.defaults?.unit);
      expect(unitOf('rtg_delivery_probe_seconds')).toEqual(['s']);
    });

    it('has queries that parse as PromQL (promtool checks them as recording rules)', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'rtg-ops-kit-'));
      try {
        const file = path.join(dir, 'dashboard-queries.yml');
        const ruleLines = panelQueries.flatMap(({ expr }, i) => [`      - record: ops_kit:panel_query_${i}`, `        expr: ${JSON.stringify(withoutGrafanaVariables(expr))}`]);
        writeFileSync(file, ['groups:', '  - name: dashboard-queries', '    rules:', ...ruleLines, ''].join('\n'));
        const { status, output } = promtool('check', 'rules', file);
        expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${panelQueries.length} rules found`) });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('against the /metrics of a real gateway', () => {
    let gateway: TestGateway;
    let queue: Queue;
    let stream: RawSseStream | undefined;
    /** Metric name → label name → the values seen. */
    const exported = new Map<string, Map<string, Set<string>>>();
    /** The scrape read, as text. */
    let scrape = '';
    /** Caps other than the defaults, to see the gauge follow them. */
    const caps = { instance: 4321, user: 7 };

    beforeAll(async () => {
      // With the embedded worker, so that processed jobs are counted (a gateway without one has no such samples).
      gateway = await startGateway({
        env: { WORKER_EMBEDDED: 'true', MAX_CONNECTIONS_PER_INSTANCE: String(caps.instance), MAX_CONNECTIONS_PER_USER: String(caps.user) },
      });
      queue = testQueue('job-postings', gateway.config);
      const userId = randomUserId('ops');
      stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}` });
      await waitFor(() => stream!.blocks.length > 0, 'the stream to open');
      const id = await publish(gateway.url, userId, 'job-match', { n: 1 });
      expect((await stream.waitForEvents(1, 10_000))[0].id).toBe(id);
      // One job that completes and one that fails for good (bad data fails at once).
      const posting = { id: `ops-${Math.random().toString(36).slice(2, 10)}`, title: 'SRE', company: 'Acme', location: 'Berlin', description: 'On call', tags: [], remote: true };
      expect((await request(gateway.url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send(posting)).status).toBe(202);
      const badId = `ops-bad-${Math.random().toString(36).slice(2, 8)}`;
      await queue.add('posting', { id: badId, company: 'Acme' }, { jobId: badId });
      const text = await waitFor(
        async () => {
          const body = (await request(gateway.url).get('/metrics')).text;
          const ready = [
            /^rtg_jobs_processed_total\{queue="job-postings",result="completed"\} [1-9]/m,
            /^rtg_jobs_processed_total\{queue="job-postings",result="failed"\} [1-9]/m,
            /^rtg_delivery_latency_seconds_count\{channel="sse"\} [1-9]/m,
            /^rtg_notifications_published_total [1-9]/m,
            /^rtg_live_delivery_up 1$/m,
          ].every((pattern) => pattern.test(body));
          return ready ? body : null;
        },
        'a scrape with processed jobs, a publish and an SSE delivery',
        20_000,
        100,
      );
      scrape = text;
      for (const line of text.split('\n')) {
        const sample = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
        if (!sample) continue;
        const labels = exported.get(sample[1]) ?? new Map<string, Set<string>>();
        exported.set(sample[1], labels);
        for (const [, label, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
          labels.set(label, (labels.get(label) ?? new Set<string>()).add(value));
        }
      }
    }, 60_000);

    afterAll(async () => {
      stream?.close();
      await queue?.close();
      await gateway?.close();
    });

    const known = (name: string) => exported.has(name) || SCRAPE_SERIES.has(name);

    it.each([
      ['every dashboard query', () => panelQueries],
      ['every rule', () => alertQueries],
    ])('%s selects only metrics the gateway exports, with samples', (_, queries) => {
      const unknown = queries().flatMap(({ where, expr }) => metricNamesIn(expr).filter((name) => !known(name)).map((name) => `${where}: ${name}`));
      expect(unknown).toEqual([]);
      // A query that selects nothing would check nothing.
      for (const { where, expr } of queries()) {
        expect({ where, names: metricNamesIn(expr).length > 0 }).toEqual({ where, names: true });
      }
    });

    it.each([
      ['every dashboard query', () => panelQueries],
      ['every rule', () => alertQueries],
    ])('%s matches only labels, and label values, that the metrics have', (_, queries) => {
      const wrong: string[] = [];
      for (const { where, expr } of queries()) {
        for (const { metric, label, op, value } of matchersIn(expr)) {
          const labels = exported.get(metric);
          if (!labels || TARGET_LABELS.has(label)) continue;
          const values = labels.get(label);
          if (!values) wrong.push(`${where}: ${metric} has no label ${label}`);
          else if (op === '=' && !values.has(value)) wrong.push(`${where}: ${metric}{${label}="${value}"} has no sample (values: ${[...values].join(', ')})`);
          else if (op === '=~' && !value.includes('$') && ![...values].some((seen) => new RegExp(`^(?:${value})$`).test(seen))) {
            wrong.push(`${where}: ${metric}{${label}=~"${value}"} matches no sample`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });

    it('reports live delivery up, the probe round trip in seconds and the caps it was started with', () => {
      const value = (series: string) => {
        const line = scrape.split('\n').find((candidate) => candidate.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      expect({
        liveDeliveryUp: value('rtg_live_delivery_up'),
        instanceCap: value('rtg_connections_max{scope="instance"}'),
        userCap: value('rtg_connections_max{scope="user"}'),
      }).toEqual({ liveDeliveryUp: 1, instanceCap: caps.instance, userCap: caps.user });
      // A probe not back within 2 s fails its round: a successful one took less.
      expect(value('rtg_delivery_probe_seconds')).toEqual(expect.any(Number));
      expect(value('rtg_delivery_probe_seconds')).toBeGreaterThanOrEqual(0);
      expect(value('rtg_delivery_probe_seconds')).toBeLessThan(2);
    });

    it('exports every metric of the contract the kit is built on', () => {
      for (const name of [
        'rtg_connections',
        'rtg_notifications_published_total',
        'rtg_topic_events_published_total',
        'rtg_notifications_delivered_total',
        'rtg_delivery_latency_seconds_bucket',
        'rtg_delivery_latency_seconds_sum',
        'rtg_delivery_latency_seconds_count',
        'rtg_queue_jobs',
        'rtg_jobs_processed_total',
        'rtg_live_delivery_up',
        'rtg_delivery_probe_seconds',
        'rtg_connections_max',
        'nodejs_eventloop_lag_seconds',
        'nodejs_eventloop_lag_p99_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
      }
    });
  });
});
