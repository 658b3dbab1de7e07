#!/usr/bin/env node
// `npm start`: build when the sources are newer than the bundle, then run the
// gateway with a Redis it can reach (see with-redis.js).
'use strict';
const { randomBytes } = require('node:crypto');
const { buildIfStale, bundlePath } = require('./build-if-stale');
const { runWithRedis } = require('./with-redis');

buildIfStale(['gateway']);
// Outside production, `npm start` alone should let a newcomer try everything: the demo page signs in
// with dev tokens (JWT_SECRET unset: a per-process secret, see loadConfig), posts jobs with the
// internal key, and moves with no typing (DEMO_FEED's sample traffic). These defaults are for this
// machine only: a random key each start rather than a well-known one, and loopback unless HOST says
// otherwise. Never over a value the caller set.
if (process.env.NODE_ENV !== 'production') {
  const supplied = [];
  if (!process.env.INTERNAL_API_KEY) {
    process.env.INTERNAL_API_KEY = randomBytes(18).toString('base64url');
    supplied.push(`INTERNAL_API_KEY=${process.env.INTERNAL_API_KEY} (random, this run only: the demo's "post a job" form asks for it)`);
  }
  if (!process.env.JWT_SECRET) {
    supplied.push('a random per-process JWT_SECRET, with POST /api/dev/token');
    // Guests of the demo page, so sample traffic for them; a host with real secrets gets none.
    if (process.env.DEMO_FEED === undefined) {
      process.env.DEMO_FEED = 'true';
      supplied.push('DEMO_FEED=true (sample jobs and lobby tips while a page is open)');
    }
  }
  if (supplied.length > 0) {
    if (!process.env.HOST) process.env.HOST = '127.0.0.1';
    process.stderr.write(
      `npm start: development defaults: ${supplied.join('; ')}; listening on ${process.env.HOST} (set INTERNAL_API_KEY, JWT_SECRET, DEMO_FEED or HOST to override)\n`,
    );
  }
}
runWithRedis(process.execPath, [bundlePath('gateway')]);
