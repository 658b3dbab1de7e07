import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// `npm run build` runs `vite build --config apps/demo/vite.config.ts`: the page goes to dist/demo,
// which the gateway serves at GET / (apps/gateway/src/demo).
const here = path.dirname(fileURLToPath(import.meta.url));
const gateway = 'http://localhost:3000';

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  resolve: {
    // The client library straight from its sources: one type definition for server and page.
    alias: { '@app/client': path.resolve(here, '../../libs/client/src/index.ts') },
  },
  build: {
    outDir: path.resolve(here, '../../dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  // `npx vite --config apps/demo/vite.config.ts` for live editing, next to a running gateway.
  server: {
    proxy: {
      '/api': gateway,
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
