import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express, NextFunction, Request, Response } from 'express';
import fs from 'node:fs';
import path from 'node:path';

/** The AsyncAPI document of the events of SSE and Socket.IO (docs/asyncapi.yaml), as YAML. */
export const ASYNCAPI_PATH = '/api/docs/asyncapi';

/*
 * Where docs/asyncapi.yaml is, seen from this code: the copy `npm run build` puts
 * next to the bundle (dist/apps/gateway/asyncapi.yaml; rspack leaves __dirname
 * alone), the repository's docs/ from the bundle, or from the sources when the
 * tests boot the module in-process.
 */
const CANDIDATES = [
  path.join(__dirname, 'asyncapi.yaml'),
  path.resolve(__dirname, '../../../docs/asyncapi.yaml'),
  path.resolve(__dirname, '../../../../docs/asyncapi.yaml'),
];

/** The first candidate that is a file, or null. */
export function findAsyncApiFile(candidates: readonly string[] = CANDIDATES): string | null {
  return candidates.find((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile()) ?? null;
}

/**
 * Serves the committed document at ASYNCAPI_PATH, read once here at start-up.
 * Must be registered before the filter that keeps everything else under
 * /api/docs a 404. Without the file (a bundle shipped without it) the path is a
 * 404 like any unknown route, and the start-up log says why.
 */
export function serveAsyncApiDocument(app: NestExpressApplication): void {
  const file = findAsyncApiFile();
  const text = file === null ? null : fs.readFileSync(file, 'utf8');
  if (text === null) new Logger('AsyncApi').warn(`docs/asyncapi.yaml not found (looked in ${CANDIDATES.join(', ')}): ${ASYNCAPI_PATH} answers 404`);
  (app.getHttpAdapter().getInstance() as Express).get(ASYNCAPI_PATH, (_request: Request, response: Response, next: NextFunction) => {
    if (text === null) return next();
    response.type('application/yaml; charset=utf-8').send(text);
  });
}
