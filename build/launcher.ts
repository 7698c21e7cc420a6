/**
 * Start-up code at the head of dist/ctao-pilot.cjs. The program itself sits at the end of the
 * same file, inside a block comment, as one CommonJS function expression. This code reads it
 * back, compiles it with `node:vm` and V8's code cache (see code-cache.ts), and calls it.
 *
 * Node 20 keeps no code cache for the main script, so a plain bundle is parsed again at every
 * start. Inside a comment the program costs only a scan, and the cached bytecode replaces the
 * parse. The file is CommonJS because Node starts a CommonJS main script a few milliseconds
 * sooner than an ES module: it skips the ES module loader.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Script } from 'node:vm';
import { openCodeCache } from './code-cache.js';

// Set by build/bundle.mjs.
declare const __BODY_ID__: string;
declare const __BODY_LENGTH__: number;
declare const __BODY_OPEN__: string;
declare const __BODY_CLOSE__: string;
declare const __BODY_ESCAPED_CLOSE__: string | undefined;

type ProgramFunction = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

// The launcher is bundled as CommonJS, so Node gives it its own file name and `require`.
const file = __filename;
const { source, lineOffset } = readProgram(file);
const cache = openCodeCache(__BODY_ID__, process.argv[2]);
const script = new Script(source, { filename: file, lineOffset, cachedData: cache.data });
cache.saveOnExit(script);

const program = script.runInThisContext() as ProgramFunction;
const programModule = { exports: {} };
program(programModule.exports, require, programModule, file, path.dirname(file));

/**
 * Returns the program's source from the comment at the end of `file`, and the line it starts
 * on, so that stack traces name lines of the file. Throws when the file was changed after the
 * build, because the source would then be cut at the wrong place.
 */
function readProgram(file: string): { source: string; lineOffset: number } {
  // The program is ASCII (checked by the build), so one character per byte is exact.
  // NOTE: a build that replaces the file between Node's load and this read makes the check
  // below fail, so a start racing an in-place upgrade exits with the "damaged" error.
  const text = readFileSync(file, 'latin1');
  const end = text.length - __BODY_CLOSE__.length;
  const start = end - __BODY_LENGTH__;
  if (
    start < __BODY_OPEN__.length ||
    text.slice(start - __BODY_OPEN__.length, start) !== __BODY_OPEN__ ||
    text.slice(end) !== __BODY_CLOSE__
  ) {
    throw new Error(
      `${file} is damaged: the program comment is not where the build put it. Reinstall ctao-pilot.`,
    );
  }

  let source = text.slice(start, end);
  if (__BODY_ESCAPED_CLOSE__ !== undefined) {
    source = source.replaceAll(__BODY_ESCAPED_CLOSE__, '*/');
  }
  return { source, lineOffset: countLines(text, start) };
}

function countLines(text: string, end: number): number {
  let lines = 0;
  for (
    let index = text.indexOf('\n');
    index !== -1 && index < end;
    index = text.indexOf('\n', index + 1)
  ) {
    lines += 1;
  }
  return lines;
}
