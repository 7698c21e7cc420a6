// esbuild plugin that keeps seek-bzip 2.0 from calling the deprecated `new Buffer(...)`.
//
// Its decoder allocates with `new Buffer(n)` and copies with `new Buffer(buffer)`; Node prints
// a DEP0005 deprecation warning for either, once per process, on the pilot's standard error.
// Every call is rewritten to Buffer.alloc for a size and Buffer.from otherwise, which gives
// the same bytes (alloc also zero-fills, where `new Buffer(n)` already did since Node 8).
import { readFile } from 'node:fs/promises';

const HELPER =
  'function __seekBzipBuffer(value) {\n' +
  "  return typeof value === 'number' ? Buffer.alloc(value) : Buffer.from(value);\n" +
  '}\n';

/** @type {import('esbuild').Plugin} */
export const seekBzipBuffer = {
  name: 'seek-bzip-buffer',
  setup(build) {
    build.onLoad({ filter: /[\\/]seek-bzip[\\/]lib[\\/][^\\/]+\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('new Buffer(')) return undefined;
      return {
        contents: HELPER + source.replaceAll('new Buffer(', '__seekBzipBuffer('),
        loader: 'js',
      };
    });
  },
};
