// Bundles the command-line entry point and every dependency into one file,
// dist/ctao-pilot.cjs, which runs with no node_modules beside it.
//
// The file has two parts. The program (src/cli.ts and its dependencies) is bundled as one
// minified CommonJS function expression and stored in a block comment at the end of the file.
// build/launcher.ts, bundled at the head, reads that comment back and compiles it with V8's
// code cache, so that a warm start skips parsing the program.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { lazyNodeFetch } from './lazy-node-fetch.mjs';
import { seekBzipBuffer } from './seek-bzip-buffer.mjs';
import { uriJsIpv6Check } from './uri-js-ipv6-check.mjs';

const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const version = packageJson.version;
const outfile = new URL('../dist/ctao-pilot.cjs', import.meta.url).pathname;

/** Opens the comment that holds the program; the launcher checks it is still there. */
const BODY_OPEN = '/* ctao-pilot program, compiled by the launcher above\n';
const BODY_CLOSE = '\n*/\n';

/**
 * Stands for "*" + "/" inside the program, which would end the comment early. The build checks
 * that the program does not contain this sequence already.
 */
const ESCAPED_CLOSE = '*\u0001/';

const program = await bundleProgram();
const launcher = await bundleLauncher(program);
await mkdir(new URL('../dist/', import.meta.url), { recursive: true });
// A process that starts while the build runs must see the old file or the new one, never a
// partial one, so the file is written beside its final name and renamed.
const temporary = `${outfile}.${process.pid}.tmp`;
await writeFile(temporary, `${launcher}${BODY_OPEN}${program.text}${BODY_CLOSE}`, 'latin1');
await chmod(temporary, 0o755);
await rename(temporary, outfile);

/**
 * Bundles src/cli.ts as `(function (exports, require, module, __filename, __dirname) {...})`
 * and returns it escaped for the comment, with the values the launcher needs to find it.
 */
async function bundleProgram() {
  const result = await build({
    entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Whitespace and syntax minifying cuts the text V8 scans and keeps in memory by about a quarter.
    // Identifiers keep their names: stack traces stay readable, PilotError takes its `name`
    // from the class, and esbuild's keepNames would add a call to every function creation.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'none',
    sourcemap: false,
    define: { __PILOT_VERSION__: JSON.stringify(version) },
    plugins: [lazyNodeFetch, uriJsIpv6Check, seekBzipBuffer],
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].text;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {\n${code}\n})`;

  // The launcher reads the file as Latin-1, which equals UTF-8 only for ASCII.
  if (/[^\p{ASCII}]/u.test(wrapped)) {
    throw new Error('The bundled program contains a non-ASCII character. Keep charset "ascii".');
  }
  if (wrapped.includes(ESCAPED_CLOSE)) {
    throw new Error('The bundled program contains the escape sequence. Choose another one.');
  }
  const needsEscape = wrapped.includes('*/');
  const text = needsEscape ? wrapped.replaceAll('*/', ESCAPED_CLOSE) : wrapped;
  const hash = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  return { text, id: `${version}-${hash}`, escapedClose: needsEscape ? ESCAPED_CLOSE : undefined };
}

/** Bundles build/launcher.ts with the program's length, id and comment markers built in. */
async function bundleLauncher(program) {
  const result = await build({
    entryPoints: [new URL('./launcher.ts', import.meta.url).pathname],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    charset: 'ascii',
    legalComments: 'none',
    define: {
      __BODY_ID__: JSON.stringify(program.id),
      __BODY_LENGTH__: String(program.text.length),
      __BODY_OPEN__: JSON.stringify(BODY_OPEN),
      __BODY_CLOSE__: JSON.stringify(BODY_CLOSE),
      __BODY_ESCAPED_CLOSE__:
        program.escapedClose === undefined ? 'undefined' : JSON.stringify(program.escapedClose),
    },
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}
