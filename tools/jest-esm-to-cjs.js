// ts-jest, plus a rewrite of `import.meta.*` inside node_modules: Nest 12's
// packages are ESM-only and Jest on Node 20 cannot require(esm), so they are
// compiled to CommonJS, where import.meta is invalid.
'use strict';
const { TsJestTransformer } = require('ts-jest');

const fix = (source, file) =>
  file.includes('/node_modules/')
    ? source
        // `const require = createRequire(import.meta.url)` (e.g. @nestjs/terminus) would shadow CommonJS's own require.
        .replace(/\bconst\s+require\s*=\s*createRequire\(\s*import\.meta\.url\s*\);?/g, '')
        .replace(/\bimport\.meta\.resolve\(/g, 'require.resolve(')
        .replace(/\bimport\.meta\.dirname\b/g, '__dirname')
        .replace(/\bimport\.meta\.filename\b/g, '__filename')
        .replace(/\bimport\.meta\.url\b/g, 'require("node:url").pathToFileURL(__filename).href')
    : source;

class EsmToCjsTransformer extends TsJestTransformer {
  process(source, file, options) {
    return super.process(fix(source, file), file, options);
  }
  processAsync(source, file, options) {
    return super.processAsync(fix(source, file), file, options);
  }
  getCacheKey(source, file, options) {
    return super.getCacheKey(fix(source, file), file, options);
  }
}

module.exports = { createTransformer: (config) => new EsmToCjsTransformer(config) };
