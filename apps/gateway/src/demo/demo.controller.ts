import { Controller, Get, Header, Inject, NotFoundException, Param, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { findDemoRoot, renderIndex, resolveAsset } from './demo-files';

/** Hashed assets never change under their name: browsers keep them a year without asking again. */
const IMMUTABLE_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * `GET /`: the demo page, built by Vite into dist/demo (`npm run build`), and
 * `GET /assets/<file>`: its scripts and styles. A small controller rather than
 * @nestjs/serve-static: two routes, flat hashed file names, and the page needs
 * one server-side tweak (whether dev tokens exist, whether the demo feed runs).
 * Not in the OpenAPI document: a page for browsers, not part of the API.
 */
@ApiExcludeController()
@Controller()
export class DemoController {
  private root: string | null = null;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  // Security headers (a CSP with scripts and connections to 'self' only) come from helmet, in configure-gateway-app.ts.
  @Get()
  @Header('Cache-Control', 'no-cache')
  index(@Res() response: Response): void {
    // Read per request (a small file): a rebuild under a running gateway replaces the hashed asset names.
    const html = fs.readFileSync(path.join(this.demoRoot(), 'index.html'), 'utf8');
    response.type('html').send(renderIndex(html, this.config));
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    const full = resolveAsset(this.demoRoot(), file);
    if (full === null) throw new NotFoundException(`no demo asset ${file}`);
    // send() picks the Content-Type from the extension and answers conditional and range requests.
    response.sendFile(full, { maxAge: IMMUTABLE_MAX_AGE_MS, immutable: true, dotfiles: 'deny' }, (error) => {
      if (error && !response.headersSent) response.status(404).json({ statusCode: 404, error: 'Not Found', message: `no demo asset ${file}` });
    });
  }

  private demoRoot(): string {
    this.root ??= findDemoRoot();
    if (this.root === null) throw new ServiceUnavailableException('the demo page is not built: run npm run build');
    return this.root;
  }
}
