// esbuild plugin that imports Node's built-in modules without esbuild's CommonJS interop copy.
//
// For `import path from 'node:path'`, esbuild emits `__toESM(require("node:path"))`, which
// copies every property of the module into a new object with a getter each. The exec program
// does that about twenty times at start-up, which took about 0.8 ms here. This plugin serves
// imports of the built-ins that our sources import by default with a small ES module instead:
// its default export is the module object itself, and each named export one of its properties.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const NAMESPACE = 'builtin-import';

/**
 * Built-ins imported by default in src/. Others, such as node:util, export properties with a
 * getter that a named import needs (`parseArgs`), so they keep esbuild's own handling.
 */
const WRAPPED = new Set(['node:fs', 'node:os', 'node:path', 'node:vm']);

/** @type {import('esbuild').Plugin} */
export const builtinImports = {
  name: 'builtin-imports',
  setup(build) {
    // Only imports from our sources: the wrapper below and packages keep the plain require.
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.namespace !== 'file' || !args.importer.includes('/src/')) return undefined;
      if (!WRAPPED.has(args.path)) return undefined;
      return { path: args.path, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: wrapperSource(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Returns the wrapper module of built-in `specifier`. Properties with a getter, such as
 * `fs.promises`, which loads another module when read, are left out; a named import of one
 * fails the build.
 */
function wrapperSource(specifier) {
  const descriptors = Object.getOwnPropertyDescriptors(require(specifier));
  const names = Object.keys(descriptors).filter(
    (name) => 'value' in descriptors[name] && /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default',
  );
  const lines = [
    `const builtin = require(${JSON.stringify(specifier)});`,
    'export default builtin;',
  ];
  for (const name of names) lines.push(`export const ${name} = builtin.${name};`);
  return lines.join('\n');
}
