// Bundles the command-line entry point and every dependency into one file,
// dist/ctao-pilot.mjs, which runs with no node_modules beside it.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  outfile: new URL('../dist/ctao-pilot.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  define: { __PILOT_VERSION__: JSON.stringify(packageJson.version) },
  // cwl-ts-auto and pino are CommonJS and call require() on Node built-ins; an ES module
  // has no require, so the banner defines one.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __createRequire } from 'node:module';",
      'const require = __createRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
