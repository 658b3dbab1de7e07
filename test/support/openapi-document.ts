import type { INestApplication } from '@nestjs/common';
import type { MediaTypeObject, OpenAPIObject, OperationObject, ParameterObject, SchemaObject } from '@nestjs/swagger';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** What the OpenAPI test reads of a document and of the app it describes. */

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

export interface Operation {
  /** `GET /api/topics/{topic}/events` */
  key: string;
  method: (typeof METHODS)[number];
  path: string;
  operation: OperationObject;
}

export function operationsOf(document: OpenAPIObject): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => ({ key: `${method.toUpperCase()} ${path}`, method, path, operation: item[method] as OperationObject })),
  );
}

/** `/api/topics/:topic/events` → `/api/topics/{topic}/events` */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

interface ExpressLayer {
  name: string;
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * What Express serves, read from its router: routes as `METHOD /path`, and the
 * paths of middleware mounted under a path (Bull Board, static files), which
 * have routes of their own that the router does not list.
 */
export function expressRoutes(app: INestApplication): { routes: string[]; mounts: string[] } {
  const { stack } = (app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } }).router;
  const routes = stack.flatMap(({ route }) =>
    route ? Object.keys(route.methods).filter((method) => method !== '_all').map((method) => `${method.toUpperCase()} ${route.path}`) : [],
  );
  const mounts = stack.flatMap(({ route, rawPath }) => (!route && typeof rawPath === 'string' && rawPath !== '/' ? [rawPath] : []));
  return { routes: [...new Set(routes)], mounts: [...new Set(mounts)] };
}

/**
 * Validates values against the document's schemas (OpenAPI 3.0: `nullable`,
 * `example`) with Ajv in strict mode; `$ref`s to components resolve.
 */
export class SchemaChecker {
  private readonly ajv = new Ajv({ strict: true, allErrors: true });

  constructor(document: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
    this.ajv.addSchema({ $id: 'openapi.json', definitions: refsToAjv(document.components?.schemas ?? {}) });
  }

  /** Null when `value` fits, else what is wrong. */
  problem(schema: unknown, value: unknown): string | null {
    const validate: ValidateFunction = this.ajv.compile(refsToAjv(schema) as object);
    return validate(value) ? null : this.ajv.errorsText(validate.errors);
  }
}

function refsToAjv<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi.json#/definitions/')) as T;
}

/** One example and the schema it must fit, with where it is. */
export interface Example {
  where: string;
  schema: unknown;
  value: unknown;
}

/** The examples of one media type (`example` and each of `examples`). */
export function mediaExamples(media: MediaTypeObject, where: string): Example[] {
  const found: Example[] = [];
  if (media.example !== undefined) found.push({ where, schema: media.schema, value: media.example });
  for (const [name, example] of Object.entries(media.examples ?? {})) {
    // A $ref to components.examples would be an example without a value here: the document has none.
    found.push({ where: `${where} examples.${name}`, schema: media.schema, value: 'value' in example ? example.value : undefined });
  }
  return found;
}

/** Every `example` inside a schema (a property's, an item's), each to fit the schema that holds it. */
export function schemaExamples(schema: unknown, where: string): Example[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as SchemaObject & Record<string, unknown>;
  const found: Example[] = node.example !== undefined ? [{ where, schema: node, value: node.example }] : [];
  for (const [name, property] of Object.entries(node.properties ?? {})) found.push(...schemaExamples(property, `${where}.${name}`));
  if (typeof node.additionalProperties === 'object') found.push(...schemaExamples(node.additionalProperties, `${where}[*]`));
  found.push(...schemaExamples(node.items, `${where}[]`));
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) (node[key] ?? []).forEach((branch, i) => found.push(...schemaExamples(branch, `${where}.${key}[${i}]`)));
  return found;
}

/** The example of a parameter (its own, or its schema's). */
export const parameterExample = (parameter: ParameterObject): unknown => parameter.example ?? (parameter.schema as SchemaObject | undefined)?.example;
