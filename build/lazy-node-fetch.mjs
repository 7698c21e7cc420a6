// esbuild plugin that defers loading node-fetch until its first call.
//
// cwl-ts-auto requires node-fetch at load time but calls it only for documents named by an
// http(s) URL. node-fetch in turn loads node:http, node:https, node:zlib and the whatwg-url
// package: `require('node-fetch')` took 15 ms or more with Node 20.20 on a 2-core Xeon. The
// replacement module below has the same default export and loads the real package on the
// first fetch.

const NAMESPACE = 'lazy-node-fetch';

const REPLACEMENT = `
'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = function fetch(resource, options) {
  return require('node-fetch').default(resource, options);
};
`;

/** @type {import('esbuild').Plugin} */
export const lazyNodeFetch = {
  name: NAMESPACE,
  setup(build) {
    build.onResolve({ filter: /^node-fetch$/ }, (args) => {
      // The replacement's own require must reach the real package.
      if (args.namespace === NAMESPACE || !args.importer.includes('/cwl-ts-auto/')) {
        return undefined;
      }
      return { path: args.importer, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: REPLACEMENT,
      loader: 'js',
      resolveDir: args.path.slice(0, args.path.lastIndexOf('/')),
    }));
  },
};
