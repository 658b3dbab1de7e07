import { type INestApplication, NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, type ReferenceObject, type SchemaObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { BadRequestAnswer, ErrorAnswer, SECURITY_SCHEMES } from './api-docs.decorators';
import { ASYNCAPI_PATH, serveAsyncApiDocument } from './asyncapi';
import { EVENT_STREAM_PATH, EVENT_STREAM_PATH_ITEM } from './event-stream.path';

/** Swagger UI. */
export const DOCS_PATH = '/api/docs';
/** The OpenAPI document as JSON. */
export const DOCS_JSON_PATH = '/api/docs-json';

/**
 * The files of Swagger UI the page loads (relative to DOCS_PATH). SwaggerModule
 * serves the whole swagger-ui-dist folder (its stock index.html and
 * petstore initializer, oauth2-redirect.html, source maps): everything else
 * under DOCS_PATH is a 404.
 */
const DOCS_PAGE_FILES: ReadonlySet<string> = new Set([
  '/',
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/swagger-ui-standalone-preset.js',
  '/swagger-ui-init.js',
  '/favicon-32x32.png',
  '/favicon-16x16.png',
]);

const DESCRIPTION = `
The HTTP API of the realtime gateway: publishing (internal services), polling, the inbox, topics, saved
searches, job postings, health and metrics, and the Server-Sent Events stream \`GET ${EVENT_STREAM_PATH}\`.

- **Bodies are JSON** (\`application/json\`, at most 1 MiB: 413); a body of any other type is a 415.
- **Unknown body fields and unknown query parameters are refused** with a 400 that names them.
- **Every error has one shape**: \`{ statusCode, error, message, field? }\`; \`field\` names the input at fault
  and is always present on a 400. A 503 (Redis away, or the instance draining) carries \`Retry-After\`.
- **Users** send an HS256 JWT (\`sub\` is the user id): \`Authorization: Bearer <jwt>\`, the \`access_token\` cookie
  (counted only on requests from the gateway's own origin or \`CORS_ORIGINS\`), or \`?access_token=\`.
  **Internal services** send \`X-Api-Key\`.

Not described here: the Socket.IO server at \`/socket.io\` and the events of every realtime channel (the
AsyncAPI document at \`${ASYNCAPI_PATH}\`), the demo page at \`/\` and the queue dashboard at \`/admin/queues\` (Basic auth with
\`ADMIN_PASSWORD\`).
`.trim();

const TAGS: Array<[string, string]> = [
  ['events', 'Server-Sent Events'],
  ['notifications', "Publishing to users (internal) and polling a user's history"],
  ['inbox', 'Read state and unread counts'],
  ['topics', 'Broadcast streams that many users follow'],
  ['saved-searches', 'Standing searches matched against every job posting'],
  ['jobs', 'Job postings (internal)'],
  ['ops', 'Health and metrics'],
  ['dev', 'Development helpers, absent in production'],
];

/** The OpenAPI document of the app's routes: the controllers' decorators, plus the event stream. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('realtime-gateway')
    .setDescription(DESCRIPTION)
    .setVersion('2')
    .addSecurity(SECURITY_SCHEMES.userBearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token (HS256, `sub` = user id).' })
    .addSecurity(SECURITY_SCHEMES.userCookie, {
      type: 'apiKey',
      in: 'cookie',
      name: 'access_token',
      description: "A user token in a cookie: counted only on a browser's request from the gateway's own origin or one in `CORS_ORIGINS`.",
    })
    .addSecurity(SECURITY_SCHEMES.userQuery, {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
      description: 'A user token in the query, for clients that cannot set headers (`EventSource`).',
    })
    .addSecurity(SECURITY_SCHEMES.internalApiKey, { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The `INTERNAL_API_KEY` of internal services.' });
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: [ErrorAnswer, BadRequestAnswer],
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.paths[EVENT_STREAM_PATH] = EVENT_STREAM_PATH_ITEM;
  closeRequestBodies(document);
  return document;
}

/**
 * The validation pipe refuses unknown fields (forbidNonWhitelisted): say so in
 * the schemas of the DTO request bodies, which the decorators leave open.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const path of Object.values(document.paths)) {
    for (const operation of [path.get, path.put, path.post, path.delete, path.patch]) {
      const body = operation?.requestBody;
      const schema = body && 'content' in body ? body.content['application/json']?.schema : undefined;
      const ref = (schema as ReferenceObject | undefined)?.$ref;
      const target = ref?.startsWith('#/components/schemas/') ? (schemas[ref.slice('#/components/schemas/'.length)] as SchemaObject | undefined) : undefined;
      if (target && target.type === 'object' && target.additionalProperties === undefined) target.additionalProperties = false;
    }
  }
}

/** Only the files of the docs page: anything else under DOCS_PATH is a 404, as an unknown route. */
function onlyDocsPageFiles(request: Request, _response: Response, next: NextFunction): void {
  if (DOCS_PAGE_FILES.has(request.path)) return next();
  next(new NotFoundException(`Cannot ${request.method} ${request.originalUrl.split('?')[0]}`));
}

/**
 * Serves Swagger UI at DOCS_PATH, the document at DOCS_JSON_PATH and the
 * AsyncAPI document at ASYNCAPI_PATH (under DOCS_PATH, so ahead of its filter), in every
 * environment: they describe the public contract, and the dev-token route
 * appears only where it is mounted. Called after the security headers (helmet's
 * CSP, which the page keeps to: its scripts and styles are files of this
 * origin, its inline styles are allowed by the app's style-src) and CORS.
 * The document is built on its first request.
 */
export function serveOpenApiDocs(app: NestExpressApplication): void {
  serveAsyncApiDocument(app);
  app.use(DOCS_PATH, onlyDocsPageFiles);
  SwaggerModule.setup(DOCS_PATH, app, () => createOpenApiDocument(app), {
    raw: ['json'],
    jsonDocumentUrl: DOCS_JSON_PATH,
    customSiteTitle: 'realtime-gateway API',
    swaggerOptions: {
      // No online validator: its badge would send the document's URL to validator.swagger.io (and the CSP blocks it).
      validatorUrl: null,
      // Tokens typed into "Authorize" stay in the page's memory, never in localStorage.
      persistAuthorization: false,
      // The page shows this document only: no `?url=` or `?configUrl=` loading another one (Swagger UI's default, made explicit).
      queryConfigEnabled: false,
    },
  });
}
