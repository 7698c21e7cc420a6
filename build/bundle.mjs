// Bundles the command-line entry points and every dependency into one file,
// dist/ctao-pilot.cjs, which runs with no node_modules beside it.
//
// The file has three parts. build/launcher.ts, bundled at the head, picks one of two programs,
// each bundled as one minified CommonJS function expression and stored in a block comment
// after it: the exec program (src/cli-exec.ts) as plain text, and the whole program
// (src/cli.ts) compressed with Brotli and encoded in base64. The launcher reads the comment
// back and compiles it with V8's code cache, so that a warm start skips parsing the program.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { builtinImports } from './builtin-imports.mjs';
import { seekBzipBuffer } from './seek-bzip-buffer.mjs';

const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const version = packageJson.version;
const outfile = new URL('../dist/ctao-pilot.cjs', import.meta.url).pathname;

/** Ends both program comments; the launcher checks it is still there. */
const BODY_CLOSE = '\n*/\n';

/**
 * Stands for "*" + "/" inside a plain program, which would end the comment early. The build
 * checks that the program does not contain this sequence already.
 */
const ESCAPED_CLOSE = '*\u0001/';

const exec = await bundleProgram('src/cli-exec.ts');
const full = await bundleProgram('src/cli.ts');
const bodies = {
  exec: {
    ...plainBody(exec, '/* ctao-pilot exec program, compiled by the launcher above\n'),
    holder: 'ctaoPilotExecProgram',
  },
  full: {
    ...compressedBody(
      full,
      '/* ctao-pilot program, Brotli-compressed and in base64, decoded by the launcher above\n',
    ),
    holder: 'ctaoPilotFullProgram',
  },
};
// The exec text starts after the launcher and the first line of its holder. Its line number is
// built into the launcher, so a first pass counts the launcher's lines; the number's digits add
// none.
bodies.exec.lineOffset = 0;
bodies.full.lineOffset = 0;
bodies.exec.lineOffset = countLines(`${await bundleLauncher(bodies)}${holderHead(bodies.exec)}`);
const launcher = await bundleLauncher(bodies);
if (countLines(`${launcher}${holderHead(bodies.exec)}`) !== bodies.exec.lineOffset) {
  throw new Error('The launcher changed its line count between the two passes.');
}
await mkdir(new URL('../dist/', import.meta.url), { recursive: true });
// A process that starts while the build runs must see the old file or the new one, never a
// partial one, so the file is written beside its final name and renamed.
const temporary = `${outfile}.${process.pid}.tmp`;
const framed = [bodies.exec, bodies.full].map(
  (body) => `${holderHead(body)}${body.text}${body.close}}\n`,
);
await writeFile(temporary, `${launcher}${framed.join('')}`, 'latin1');
await chmod(temporary, 0o755);
await rename(temporary, outfile);

/**
 * Bundles `entry` as `(function (exports, require, module, __filename, __dirname) {...})` and
 * returns the text with its id, which names its code cache folder.
 */
async function bundleProgram(entry) {
  const result = await build({
    entryPoints: [new URL(`../${entry}`, import.meta.url).pathname],
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
    plugins: [builtinImports, seekBzipBuffer],
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].text;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {\n${code}\n})`;

  // The launcher decodes the file as Latin-1, which equals UTF-8 only for ASCII.
  if (/[^\p{ASCII}]/u.test(wrapped)) {
    throw new Error(
      `The program of ${entry} contains a non-ASCII character. Keep charset "ascii".`,
    );
  }
  const hash = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  return { wrapped, id: `${version}-${hash}` };
}

/** Lays out `program` as plain text in a comment opened by `open`. */
function plainBody(program, open) {
  if (program.wrapped.includes(ESCAPED_CLOSE)) {
    throw new Error('A program contains the escape sequence. Choose another one.');
  }
  const needsEscape = program.wrapped.includes('*/');
  const text = needsEscape ? program.wrapped.replaceAll('*/', ESCAPED_CLOSE) : program.wrapped;
  const layout = {
    id: program.id,
    length: text.length,
    open,
    close: BODY_CLOSE,
    compressed: false,
  };
  if (needsEscape) layout.escapedClose = ESCAPED_CLOSE;
  return { ...layout, text };
}

/** Lays out `program` compressed, in base64, whose alphabet cannot end the comment. */
function compressedBody(program, open) {
  // The highest quality takes about two seconds and makes the file 40 kB smaller than quality
  // 9; decompressing is as fast either way.
  const compressed = brotliCompressSync(Buffer.from(program.wrapped, 'latin1'), {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 },
  });
  const text = compressed.toString('base64');
  return { id: program.id, length: text.length, open, close: BODY_CLOSE, compressed: true, text };
}

/** Returns the text before a body's program: its holder's first line and the comment opening. */
function holderHead(body) {
  return `function ${body.holder}() {${body.open}`;
}

function countLines(text) {
  return text.split('\n').length - 1;
}

/** Bundles build/launcher.ts with the layout of both program comments built in. */
async function bundleLauncher(bodies) {
  // Everything but the text itself, which follows the launcher in the file.
  const layouts = Object.fromEntries(
    Object.entries(bodies).map(([name, body]) => [name, { ...body, text: undefined }]),
  );
  const result = await build({
    entryPoints: [new URL('./launcher.ts', import.meta.url).pathname],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    charset: 'ascii',
    legalComments: 'none',
    define: { __BODIES__: JSON.stringify(layouts) },
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}
