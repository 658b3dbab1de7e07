import fs from 'node:fs';
import path from 'node:path';

/*
 * Where `vite build` put the demo page (dist/demo), seen from this code: from the
 * bundle (dist/apps/gateway/main.js, whose __dirname rspack leaves alone) or from
 * the sources when the tests boot the module in-process.
 */
const CANDIDATES = [path.resolve(__dirname, '../../demo'), path.resolve(__dirname, '../../../../dist/demo')];

/** The demo's build directory, or null if `npm run build` has not built it. */
export function findDemoRoot(candidates: readonly string[] = CANDIDATES): string | null {
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? null;
}

/** Vite's hashed asset names: one path segment of safe characters, no dot first (no `..`, no dotfiles). */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/** The full path of `assets/<name>` inside `root`, or null when the name is not a plain asset name or no such file exists. */
export function resolveAsset(root: string, name: string): string | null {
  if (!ASSET_NAME.test(name)) return null;
  const assets = path.join(root, 'assets');
  const full = path.join(assets, name);
  // Belt and braces: the pattern already keeps separators and `..` out.
  if (path.dirname(full) !== assets) return null;
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  return stat?.isFile() ? full : null;
}

/** The page's meta tag that tells it whether `POST /api/dev/token` exists; the build says `enabled`. */
export const DEV_TOKENS_META = '<meta name="rtg-dev-tokens" content="enabled" />';

/** The page's meta tag that tells it whether the gateway runs the demo feed (DEMO_FEED); the build says `disabled`. */
export const DEMO_FEED_META = '<meta name="rtg-demo-feed" content="disabled" />';

/**
 * index.html as served: without dev tokens (see DEV_TOKENS) the meta tag says
 * the endpoint is not there; with the demo feed, its tag says so.
 */
export function renderIndex(html: string, served: { devTokens: boolean; demoFeed: boolean }): string {
  let page = served.devTokens ? html : html.replace(DEV_TOKENS_META, '<meta name="rtg-dev-tokens" content="disabled" />');
  if (served.demoFeed) page = page.replace(DEMO_FEED_META, '<meta name="rtg-demo-feed" content="enabled" />');
  return page;
}
