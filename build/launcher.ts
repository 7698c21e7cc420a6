/**
 * Start-up code at the head of dist/ctao-pilot.cjs. The program sits after it in two block
 * comments, each holding one CommonJS function expression:
 *
 * - the exec program (src/cli-exec.ts: `ctao-pilot exec` and the CWL engine), as plain text;
 * - the whole program (src/cli.ts: every command), compressed with Brotli and encoded in
 *   base64.
 *
 * Node reads and scans the whole file before the first line runs, at about a millisecond per
 * 400 kB here, and most of the whole program (the HTTP client, tar, the logger) serves the
 * pilot alone. Compressed, that part costs `exec` little; the pilot, which runs for hours,
 * pays a few milliseconds to decompress it.
 *
 * The launcher reads the comment it needs back, compiles it with `node:vm` and V8's code cache
 * (see code-cache.ts), and calls it. Node 20 keeps no code cache for the main script, so a
 * plain bundle would be parsed again at every start. The file is CommonJS because Node starts a
 * CommonJS main script a few milliseconds sooner than an ES module.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { Script } from 'node:vm';
import { openCodeCache } from './code-cache.js';

/** Where the build put one program comment, and how its text is stored. */
interface BodyLayout {
  id: string;
  /** Length of the text between `open` and `close`, in bytes. */
  length: number;
  open: string;
  close: string;
  /** Stands for the comment end inside a plain text, when the program contains one. */
  escapedClose?: string;
  compressed: boolean;
  /** Line breaks in the file before a plain text, so that stack traces name lines of the file. */
  lineOffset: number;
}

// Set by build/bundle.mjs. The layouts are in file order.
declare const __BODIES__: { exec: BodyLayout; full: BodyLayout };

type ProgramFunction = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

// The launcher is bundled as CommonJS, so Node gives it its own file name and `require`.
const file = __filename;
const command = process.argv[2];
const body = command === 'exec' ? __BODIES__.exec : __BODIES__.full;
const { source, lineOffset } = readProgram(file, body);
const cache = openCodeCache(body.id, command);
const script = new Script(source, { filename: file, lineOffset, cachedData: cache.data });
// The program adds the parts it uses here (src/code-parts.ts reads the same key).
const usedParts = new Set<string>();
(globalThis as Record<symbol, unknown>)[Symbol.for('ctao-pilot.code-parts')] = usedParts;
cache.saveOnExit(script, usedParts);

const program = script.runInThisContext() as ProgramFunction;
const programModule = { exports: {} };
program(programModule.exports, require, programModule, file, path.dirname(file));

/**
 * Returns the source of the program in `body`, and the line it starts on. Throws when the file
 * was changed after the build, because the text would then be cut at the wrong place.
 */
function readProgram(file: string, body: BodyLayout): { source: string; lineOffset: number } {
  // NOTE: a build that replaces the file between Node's load and this read makes the check
  // below fail, so a start racing an in-place upgrade exits with the "damaged" error.
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const end = size - distanceFromEnd(body);
    const start = end - body.length;
    const framed = readRange(fd, start - body.open.length, end + body.close.length);
    if (
      start < body.open.length ||
      framed.toString('latin1', 0, body.open.length) !== body.open ||
      framed.toString('latin1', framed.length - body.close.length) !== body.close
    ) {
      throw new Error(
        `${file} is damaged: the program comment is not where the build put it. Reinstall ctao-pilot.`,
      );
    }
    const text = framed.subarray(body.open.length, framed.length - body.close.length);
    if (body.compressed) return { source: decompress(text), lineOffset: 0 };
    // The program is ASCII (checked by the build), so Latin-1 decoding is exact.
    let source = text.toString('latin1');
    if (body.escapedClose !== undefined) source = source.replaceAll(body.escapedClose, '*/');
    return { source, lineOffset: body.lineOffset };
  } finally {
    closeSync(fd);
  }
}

/** Bytes between the end of `body`'s text and the end of the file. */
function distanceFromEnd(body: BodyLayout): number {
  const { exec, full } = __BODIES__;
  const afterFull = full.close.length;
  if (body === full) return afterFull;
  return afterFull + full.length + full.open.length + exec.close.length;
}

function readRange(fd: number, start: number, end: number): Buffer {
  const buffer = Buffer.allocUnsafe(Math.max(0, end - start));
  let filled = 0;
  while (filled < buffer.length) {
    const read = readSync(fd, buffer, filled, buffer.length - filled, start + filled);
    if (read === 0) break;
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/** Decodes and decompresses the whole program; zlib is loaded only on this path. */
function decompress(text: Buffer): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const compressed = Buffer.from(text.toString('latin1'), 'base64');
  return zlib.brotliDecompressSync(compressed).toString('latin1');
}
