/**
 * Start-up code at the head of dist/ctao-pilot.cjs. The program sits after it in two block
 * comments, each the only content of an empty function (its holder) and holding one CommonJS
 * function expression:
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
 * The launcher takes the comment it needs from its holder's text, compiles it with `node:vm` and
 * V8's code cache (see code-cache.ts), and calls it. V8 keeps the text of the file it compiled,
 * and a function's `toString` returns a slice of that text, so the program is neither read from
 * disk again nor copied. Node 20 keeps no code cache for the main script, so a
 * plain bundle would be parsed again at every start. The file is CommonJS because Node starts a
 * CommonJS main script a few milliseconds sooner than an ES module.
 */
import path from 'node:path';
import { Script } from 'node:vm';
import { CODE_PARTS_KEY } from '../src/code-parts.js';
import { openCodeCache } from './code-cache.js';

/** Where the build put one program comment, and how its text is stored. */
interface BodyLayout {
  id: string;
  /** Name of the function whose body is the comment. */
  holder: string;
  /** Length of the text between `open` and `close`. */
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
// The holders, which the build writes after the launcher in the same file.
declare function ctaoPilotExecProgram(): void;
declare function ctaoPilotFullProgram(): void;

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
const holder = command === 'exec' ? ctaoPilotExecProgram : ctaoPilotFullProgram;
const { source, lineOffset } = readProgram(file, body, holder);
const cache = openCodeCache(body.id, command);
const script = new Script(source, { filename: file, lineOffset, cachedData: cache.data });
// The program adds the parts it uses to this set.
const usedParts = new Set<string>();
(globalThis as Record<symbol, unknown>)[CODE_PARTS_KEY] = usedParts;
cache.saveOnExit(script, usedParts);

const program = script.runInThisContext() as ProgramFunction;
const programModule = { exports: {} };
program(programModule.exports, require, programModule, file, path.dirname(file));

/**
 * Returns the source of the program in `body`, and the line it starts on. Throws when the
 * holder's text is not what the build wrote, which means the file was edited after the build.
 */
function readProgram(
  file: string,
  body: BodyLayout,
  holder: () => void,
): { source: string; lineOffset: number } {
  const framed = holder.toString();
  const head = `function ${body.holder}() {${body.open}`;
  const tail = `${body.close}}`;
  if (
    framed.length !== head.length + body.length + tail.length ||
    !framed.startsWith(head) ||
    !framed.endsWith(tail)
  ) {
    throw new Error(
      `${file} is damaged: the program comment is not what the build wrote. Reinstall ctao-pilot.`,
    );
  }
  let text = framed.slice(head.length, framed.length - tail.length);
  if (body.compressed) return { source: decompress(text), lineOffset: 0 };
  if (body.escapedClose !== undefined) text = text.replaceAll(body.escapedClose, '*/');
  return { source: text, lineOffset: body.lineOffset };
}

/** Decodes and decompresses the whole program; zlib is loaded only on this path. */
function decompress(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const compressed = Buffer.from(text, 'base64');
  return zlib.brotliDecompressSync(compressed).toString('latin1');
}
