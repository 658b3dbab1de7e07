import type { OpenAPIObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import request from 'supertest';
import { DOCS_JSON_PATH, DOCS_PATH } from '../apps/gateway/src/docs/openapi';
import { EventStreamRoute } from '../apps/gateway/src/events/event-stream.route';
import { EVENTS_QUERY_PARAMETERS } from '../apps/gateway/src/events/events.query';
import { type Example, expressRoutes, mediaExamples, type Operation, openApiPath, operationsOf, parameterExample, SchemaChecker, schemaExamples } from './support/openapi-document';
import { randomUserId } from './support/prefix';
import { openSse } from './support/sse-client';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';

/*
 * Issue 17: the OpenAPI document at /api/docs-json describes every route the
 * app serves, from the DTOs and schemas that validate them; every example fits
 * its schema and is what the running routes accept; Swagger UI at /api/docs
 * loads under the app's own CSP. DEV_TOKENS=true mounts every controller.
 */

/** Routes Express serves that the document leaves out on purpose, and why. */
const EXCLUDED_ROUTES: Record<string, string> = {
  'GET /': 'the demo page: HTML for a browser, not the API (DemoController is @ApiExcludeController)',
  'GET /assets/:file': "the demo page's scripts and styles",
  'GET /api/docs': 'Swagger UI: the documentation itself',
  'GET /api/docs/': 'Swagger UI, with a trailing slash',
  'GET /api/docs/index.html': "Swagger UI's second name (a 404: only the page's own files are served)",
  'GET /api/docs/swagger-ui-init.js': "Swagger UI's script that holds the document",
  'GET /api/docs/docs/swagger-ui-init.js': 'the same script under a path the page never uses (a 404)',
  'GET /api/docs/LICENSE': "swagger-ui-dist's licence (a 404)",
  'GET /api/docs-json': 'the document itself',
  'GET /api/docs/asyncapi': 'the AsyncAPI document of the SSE and Socket.IO events (test/asyncapi.e2e-spec.ts checks it)',
};

/** Middleware mounted under a path (routes of their own, not in Express's route list), and why they are left out. */
const EXCLUDED_MOUNTS: Record<string, string> = {
  '/admin/queues': "Bull Board, the operators' queue dashboard: HTML and its own JSON API behind Basic auth (ADMIN_PASSWORD), not the public contract",
  '/api/docs': "Swagger UI's files (swagger-ui-dist), behind the filter that serves only the page's own",
  '/api/docs/docs': "a second mount of swagger-ui-dist that SwaggerModule adds; the filter at /api/docs answers 404 under it",
};

/** Routes served ahead of Express (the event stream, events/event-stream.route.ts), which the document must have. */
const AHEAD_OF_EXPRESS = ['GET /api/events'];

/** Bad inputs that the schema and the route must both refuse: documentation and validation agree. */
const REFUSED: Array<[key: string, body: unknown]> = [
  ['POST /api/jobs', { id: '42', title: 'an integer id', company: 'Acme' }],
  ['POST /api/jobs', { id: 'acme-1', title: 'an unknown field', company: 'Acme', salaryRange: '1-2' }],
  ['POST /api/notifications', { userId: 'u42', type: 'Not A Type', data: {} }],
  ['POST /api/notifications', { userId: 'u42', type: 'job-match', data: {}, priority: 'high' }],
  ['POST /api/notifications/batch', { items: [] }],
  ['POST /api/notifications/read', { ids: [] }],
  ['POST /api/notifications/read', { ids: ['not-an-id'] }],
  ['POST /api/notifications/read', { ids: ['1-0'], upTo: '1-0' }],
  ['POST /api/saved-searches', { keywords: [] }],
  ['POST /api/saved-searches', { keywords: ['node.js'], location: null }],
  ['POST /api/topics/{topic}/events', { type: 'job-posted', data: 'not an object' }],
  ['POST /api/dev/token', { userId: 'has space' }],
];

/** Operations that answer without Redis, so they list no 503, and why. */
const NO_REDIS: Record<string, string> = {
  'GET /metrics': 'the registry is in memory (queue gauges keep their last values when Redis is away)',
  'POST /api/dev/token': 'signing a token needs only the secret',
};

/** Whether a parameter's schema refuses some values: a wrong one is then a 400. */
const isConstrained = (schema: SchemaObject | undefined) =>
  schema !== undefined && ['pattern', 'minimum', 'maximum', 'enum', 'minLength', 'maxLength'].some((keyword) => keyword in schema);

describe('OpenAPI document and Swagger UI', () => {
  let gateway: TestGateway;
  let document: OpenAPIObject;
  let operations: Operation[];
  let schemas: SchemaChecker;
  const user = randomUserId('docs');

  beforeAll(async () => {
    gateway = await startGateway({ env: { DEV_TOKENS: 'true' } });
    const response = await request(gateway.url).get(DOCS_JSON_PATH).expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    document = response.body as OpenAPIObject;
    operations = operationsOf(document);
    schemas = new SchemaChecker(document);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const find = (key: string) => {
    const found = operations.find((operation) => operation.key === key);
    if (!found) throw new Error(`${key} is not in the document`);
    return found;
  };
  const jsonSchemaOf = (response: ResponseObject | undefined) => response?.content?.['application/json']?.schema;

  it('is OpenAPI 3.0, with the same security headers as every route and no loosened CSP', async () => {
    expect(document.openapi).toMatch(/^3\.0\./);
    const [docs, json, api] = await Promise.all([DOCS_PATH, DOCS_JSON_PATH, '/health'].map((path) => request(gateway.url).get(path)));
    expect(docs.headers['content-security-policy']).toBe(api.headers['content-security-policy']);
    expect(json.headers['content-security-policy']).toBe(api.headers['content-security-policy']);
    expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
    expect(docs.headers['content-security-policy']).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(docs.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('has every route Express serves, by method, except those excluded with a reason', () => {
    const { routes, mounts } = expressRoutes(gateway.app);
    const documented = new Set(operations.map((operation) => operation.key));
    const missing = routes.filter((route) => !(route in EXCLUDED_ROUTES) && !documented.has(openApiPath(route)));
    expect(missing).toEqual([]);
    expect(mounts.filter((mount) => !(mount in EXCLUDED_MOUNTS))).toEqual([]);
    // The lists name what exists and stays out of the document: no stale entry, nothing both excluded and documented.
    expect(Object.keys(EXCLUDED_ROUTES).filter((route) => !routes.includes(route))).toEqual([]);
    expect(Object.keys(EXCLUDED_MOUNTS).filter((mount) => !mounts.includes(mount))).toEqual([]);
    expect(Object.keys(EXCLUDED_ROUTES).filter((route) => documented.has(openApiPath(route)))).toEqual([]);
    for (const key of AHEAD_OF_EXPRESS) {
      const [method, url] = key.split(' ');
      expect({ key, served: EventStreamRoute.matches({ method, url } as never) }).toEqual({ key, served: true });
    }
    // And nothing documented that is not served.
    const served = new Set([...routes.map(openApiPath), ...AHEAD_OF_EXPRESS]);
    expect([...documented].filter((key) => !served.has(key))).toEqual([]);
  });

  it('documents GET /api/events as a stream, with the query parameters the route knows and Last-Event-ID', () => {
    const { operation } = find('GET /api/events');
    const parameters = operation.parameters as ParameterObject[];
    const query = parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
    // access_token is the userQuery security scheme.
    expect(new Set([...query, 'access_token'])).toEqual(new Set(EVENTS_QUERY_PARAMETERS));
    expect(parameters).toContainEqual(expect.objectContaining({ name: 'Last-Event-ID', in: 'header' }));
    expect(Object.keys((operation.responses['200'] as ResponseObject).content ?? {})).toEqual(['text/event-stream']);
  });

  it('declares the user and internal security schemes, and every API route takes one of them', () => {
    expect(document.components?.securitySchemes).toMatchObject({
      userBearer: { type: 'http', scheme: 'bearer' },
      userCookie: { type: 'apiKey', in: 'cookie', name: 'access_token' },
      userQuery: { type: 'apiKey', in: 'query', name: 'access_token' },
      internalApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
    });
    const open = ['GET /health', 'GET /metrics', 'POST /api/dev/token'];
    const internal = ['POST /api/notifications', 'POST /api/notifications/batch', 'POST /api/topics/{topic}/events', 'POST /api/jobs'];
    const user = [{ userBearer: [] }, { userCookie: [] }, { userQuery: [] }];
    for (const { key, operation } of operations) {
      const expected = open.includes(key) ? undefined : internal.includes(key) ? [{ internalApiKey: [] }] : user;
      expect({ key, security: operation.security }).toEqual({ key, security: expected });
    }
  });

  it('lists the error answers of every route, in the one error shape', () => {
    const errorSchema = (status: string) => ({ $ref: `#/components/schemas/${status === '400' ? 'BadRequestAnswer' : 'ErrorAnswer'}` });
    for (const { key, operation } of operations) {
      const statuses = Object.keys(operation.responses);
      const expected = new Set<string>();
      if (operation.security) expected.add('401');
      if (operation.requestBody) ['400', '413', '415'].forEach((status) => expected.add(status));
      if ((operation.parameters as ParameterObject[] | undefined)?.some((parameter) => parameter.in !== 'header' && isConstrained(parameter.schema as SchemaObject))) {
        expected.add('400');
      }
      if (!(key in NO_REDIS)) expected.add('503');
      expect({ key, missing: [...expected].filter((status) => !statuses.includes(status)) }).toEqual({ key, missing: [] });
      for (const status of statuses.filter((status) => Number(status) >= 400 && key !== 'GET /health')) {
        expect({ key, status, schema: jsonSchemaOf(operation.responses[status] as ResponseObject) }).toEqual({ key, status, schema: errorSchema(status) });
      }
    }
  });

  it('gives every request body and response an example, and every example fits its schema', () => {
    const examples: Example[] = [];
    const withoutExample: string[] = [];
    for (const { key, operation } of operations) {
      for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
        const value = parameterExample(parameter);
        if (value === undefined) withoutExample.push(`${key} ${parameter.in} ${parameter.name}`);
        else examples.push({ where: `${key} ${parameter.in} ${parameter.name}`, schema: parameter.schema, value });
      }
      const media = [
        ...Object.entries(operation.requestBody && 'content' in operation.requestBody ? operation.requestBody.content : {}).map(([type, content]) => [`${key} body ${type}`, content] as const),
        ...Object.entries(operation.responses).flatMap(([status, response]) => Object.entries((response as ResponseObject).content ?? {}).map(([type, content]) => [`${key} ${status} ${type}`, content] as const)),
      ];
      for (const [where, content] of media) {
        const found = mediaExamples(content, where);
        if (found.length === 0) withoutExample.push(where);
        examples.push(...found, ...schemaExamples(content.schema, `${where} schema`));
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [name, header] of Object.entries((response as ResponseObject).headers ?? {})) examples.push(...schemaExamples((header as { schema?: unknown }).schema, `${key} ${status} header ${name}`));
      }
    }
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) examples.push(...schemaExamples(schema, `components.schemas.${name}`));
    expect(withoutExample).toEqual([]);
    expect(examples.length).toBeGreaterThan(100);
    const misfits = examples.flatMap(({ where, schema, value }) => {
      const problem = schemas.problem(schema, value);
      return problem === null ? [] : [`${where}: ${problem}`];
    });
    expect(misfits).toEqual([]);
  });

  /** Sends one request as the document describes it: path and query from the parameter examples, the credentials the operation takes. */
  const send = (key: string, body?: unknown, query: Record<string, string> = {}) => {
    const { method, path, operation } = find(key);
    const parameters = (operation.parameters ?? []) as ParameterObject[];
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(parameterExample(parameters.find((parameter) => parameter.name === name)!))));
    let req = request(gateway.url)[method as 'get' | 'post' | 'delete'](url).query(query);
    if (operation.security?.some((requirement) => 'internalApiKey' in requirement)) req = req.set('X-Api-Key', TEST_API_KEY);
    else if (operation.security) req = req.set('Authorization', `Bearer ${userToken(user)}`);
    return body === undefined ? req : req.send(body as object);
  };

  it('is what the routes do: every example request is answered as documented, and the answer fits its schema', async () => {
    const outcomes: string[] = [];
    for (const { key, method, operation } of operations.filter(({ key }) => !AHEAD_OF_EXPRESS.includes(key))) {
      const query = Object.fromEntries(
        ((operation.parameters ?? []) as ParameterObject[]).filter((parameter) => parameter.in === 'query').map((parameter) => [parameter.name, String(parameterExample(parameter))]),
      );
      const content = operation.requestBody && 'content' in operation.requestBody ? operation.requestBody.content['application/json'] : undefined;
      const bodies = content ? mediaExamples(content, key).map((example) => example.value) : [undefined];
      for (const body of bodies) {
        const response = await send(key, body, query);
        const documented = operation.responses[String(response.status)] as ResponseObject | undefined;
        // A request of examples succeeds, but for deleting the example id, which is no saved search of this user.
        const expected = method === 'delete' ? documented !== undefined : response.status < 300 && documented !== undefined;
        const schema = jsonSchemaOf(documented);
        const problem = schema && response.status !== 503 ? schemas.problem(schema, response.body) : null;
        if (!expected || problem !== null) outcomes.push(`${key} ${JSON.stringify(body)} → ${response.status} ${problem ?? response.text.slice(0, 200)}`);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('opens the event stream with its example parameters', async () => {
    const parameters = find('GET /api/events').operation.parameters as ParameterObject[];
    const example = (name: string) => String(parameterExample(parameters.find((parameter) => parameter.name === name)!));
    const stream = await openSse(gateway.url, `/api/events?types=${example('types')}&topics=${example('topics')}`, {
      Authorization: `Bearer ${userToken(user)}`,
      'Last-Event-ID': example('Last-Event-ID'),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    stream.close();
    const resumed = await openSse(gateway.url, `/api/events?lastEventId=${example('lastEventId')}`, { Authorization: `Bearer ${userToken(user)}` });
    expect(resumed.status).toBe(200);
    resumed.close();
  });

  it.each(REFUSED)('%s refuses %j, in its schema and in the route', async (key, body) => {
    const content = (find(key).operation.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json'];
    expect(schemas.problem(content.schema, body)).not.toBeNull();
    const response = await send(key, body);
    expect(response.status).toBe(400);
    expect(schemas.problem(jsonSchemaOf(find(key).operation.responses['400'] as ResponseObject), response.body)).toBeNull();
  });

  it('refuses an out-of-range query parameter in its schema and in the route', async () => {
    const limit = (find('GET /api/notifications').operation.parameters as ParameterObject[]).find((parameter) => parameter.name === 'limit')!;
    expect(schemas.problem(limit.schema as SchemaObject, 0)).not.toBeNull();
    expect((await send('GET /api/notifications', undefined, { limit: '0' })).status).toBe(400);
  });

  it("serves Swagger UI: the page, the files it loads, and nothing else of swagger-ui-dist", async () => {
    for (const path of [DOCS_PATH, `${DOCS_PATH}/`]) {
      const page = await request(gateway.url).get(path).query({ any: 'query' }).expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const assets = [...page.text.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map(([, url]) => new URL(url, `${gateway.url}${path}`).pathname);
      expect(assets).toEqual(expect.arrayContaining([`${DOCS_PATH}/swagger-ui-bundle.js`, `${DOCS_PATH}/swagger-ui-init.js`, `${DOCS_PATH}/swagger-ui.css`]));
      for (const asset of assets) expect({ asset, status: (await request(gateway.url).get(asset)).status }).toEqual({ asset, status: 200 });
    }
    for (const path of ['index.html', 'oauth2-redirect.html', 'swagger-initializer.js', 'swagger-ui-bundle.js.map', 'package.json', 'LICENSE', '../docs-json/x']) {
      const response = await request(gateway.url).get(`${DOCS_PATH}/${path}`);
      expect({ path, status: response.status, body: response.body as unknown }).toEqual({ path, status: 404, body: expect.objectContaining({ statusCode: 404, error: 'Not Found' }) });
    }
  });

  const CHROMIUM = '/usr/bin/chromium';
  (fs.existsSync(CHROMIUM) ? it : it.skip)('renders in Chromium under the app CSP, with no violation, and runs a request', async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 30_000 });
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
      page.on('pageerror', (error) => problems.push(error.message));
      await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP ' + e.violatedDirective + ' ' + e.blockedURI));" });
      await page.goto(`${gateway.url}${DOCS_PATH}`);
      await page.locator('.swagger-ui .info .title').filter({ hasText: 'realtime-gateway' }).waitFor({ timeout: 20_000 });
      expect(await page.locator('.opblock').count()).toBe(operations.length);
      // Try it out: the page calls the API from its own origin (connect-src 'self').
      const health = page.locator('#operations-ops-Health_check');
      await health.locator('.opblock-summary').click();
      await health.getByRole('button', { name: 'Try it out' }).click();
      await health.getByRole('button', { name: 'Execute' }).click();
      await health.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).waitFor({ timeout: 10_000 });
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
    }
  }, 60_000);
});
