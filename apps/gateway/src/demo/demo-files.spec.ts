import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_FEED_META, DEV_TOKENS_META, findDemoRoot, renderIndex, resolveAsset } from './demo-files';

describe('demo files', () => {
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-demo-'));
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'index.html'), `<head>${DEV_TOKENS_META}${DEMO_FEED_META}</head>`);
    fs.writeFileSync(path.join(root, 'assets', 'index-AbC123.js'), '');
    fs.writeFileSync(path.join(root, 'assets', '.env'), 'SECRET=1');
    fs.mkdirSync(path.join(root, 'assets', 'nested'));
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the first build directory that has an index.html', () => {
    expect(findDemoRoot([path.join(root, 'missing'), root])).toBe(root);
    expect(findDemoRoot([path.join(root, 'missing')])).toBeNull();
  });

  it('serves plain asset names only: no traversal, no dotfiles, no directories', () => {
    expect(resolveAsset(root, 'index-AbC123.js')).toBe(path.join(root, 'assets', 'index-AbC123.js'));
    for (const name of ['../index.html', '..', '.env', 'nested', 'nested/x.js', '..%2Findex.html', 'a\\b.js', '', 'missing.js']) {
      expect(resolveAsset(root, name)).toBeNull();
    }
  });

  it('tells the page whether dev tokens exist and whether the demo feed runs', () => {
    const html = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
    expect(renderIndex(html, { devTokens: true, demoFeed: false })).toBe(`<head>${DEV_TOKENS_META}${DEMO_FEED_META}</head>`);
    expect(renderIndex(html, { devTokens: false, demoFeed: true })).toBe(
      '<head><meta name="rtg-dev-tokens" content="disabled" /><meta name="rtg-demo-feed" content="enabled" /></head>',
    );
  });
});
