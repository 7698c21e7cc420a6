import type { EventEmitter } from 'node:events';
import { mkdir, realpath } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { PilotError, SandboxError } from '../errors.js';
import type { Bzip2Codec } from './bzip2.js';
import { openTarStream } from './codecs.js';
import { Extractor, type ExtractLimits } from './extract.js';
import { detectFormat } from './formats.js';

/** Default maximum total size of regular-file members: 2 GiB. */
export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

/** Default maximum number of members: 100 000. */
export const DEFAULT_MAX_MEMBERS = 100_000;

/**
 * Header and padding bytes allowed per member on top of the content limit, so a tar stream
 * of endless headers or padding is stopped too. 8 KiB covers a PAX header with a 4096-byte
 * path, the ustar header and the padding to 512 bytes.
 */
const TAR_OVERHEAD_PER_MEMBER = 8 * 1024;

/** Options of {@link unpackSandbox}. */
export interface UnpackOptions {
  /** Archive file: tar, tar.gz, tar.bz2 or tar.zst, detected from its first bytes. */
  archive: string;
  /** Folder to unpack into, created when missing. */
  targetDir: string;
  /** Maximum total size of regular-file members, in bytes. Default 2 GiB. */
  maxBytes?: number;
  /** Maximum number of members of any type. Default 100 000. */
  maxMembers?: number;
  /** bzip2 implementation for tar.bz2. Default `auto`: the program when on PATH. */
  bzip2Codec?: Bzip2Codec;
}

/** Result of {@link unpackSandbox}. */
export interface UnpackResult {
  /** Member paths written, normalised (no `./` prefix), in archive order. */
  members: string[];
  /** Total size of regular-file content written, in bytes. */
  bytes: number;
}

function checkLimit(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SandboxError(
      'SANDBOX_INVALID_OPTION',
      `${name} must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Unpacks a sandbox archive into `targetDir`. Members with an absolute path or a `..`
 * component, symbolic or hard links that lead outside the folder, devices and FIFOs raise
 * `SANDBOX_UNSAFE_MEMBER`. Going past a limit raises `SANDBOX_TOO_LARGE` or
 * `SANDBOX_TOO_MANY_MEMBERS`. Each error names the member. After an error the folder may
 * hold the members written before it, so callers discard it.
 */
export async function unpackSandbox(options: UnpackOptions): Promise<UnpackResult> {
  const limits: ExtractLimits = {
    maxBytes: checkLimit('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES),
    maxMembers: checkLimit('maxMembers', options.maxMembers ?? DEFAULT_MAX_MEMBERS),
  };
  const format = await detectFormat(options.archive).catch((error: unknown) => {
    throw new SandboxError(
      'SANDBOX_ARCHIVE_UNREADABLE',
      `cannot read archive ${options.archive}: ${(error as Error).message}`,
      { cause: error },
    );
  });
  await mkdir(options.targetDir, { recursive: true });
  const root = await realpath(options.targetDir);
  const extractor = new Extractor(root, limits);

  const source = await openTarStream(options.archive, format, options.bzip2Codec ?? 'auto');
  const maxTarBytes = limits.maxBytes + (limits.maxMembers + 2) * TAR_OVERHEAD_PER_MEMBER;
  await feedParser(source, extractor, maxTarBytes);
  await extractor.checkSymlinks();
  return { members: extractor.members, bytes: extractor.bytes };
}

/** Resolves on the next `name` event. Unlike events.once, an 'error' event does not reject. */
function nextEvent(emitter: EventEmitter, name: string): Promise<void> {
  return new Promise((resolve) => emitter.once(name, () => resolve()));
}

function isAllZero(chunk: Buffer): boolean {
  for (const byte of chunk) {
    if (byte !== 0) return false;
  }
  return true;
}

function corruptTar(error: unknown): PilotError {
  if (error instanceof PilotError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SandboxError('SANDBOX_CORRUPT_ARCHIVE', `invalid tar data: ${message}`, {
    cause: error,
  });
}

/** Streams `source` through a tar parser into `extractor`, one member at a time. */
async function feedParser(source: Readable, extractor: Extractor, maxTarBytes: number) {
  const parser = new Parser({ strict: true });
  let failure: PilotError | undefined;
  let signalFailure: (error: PilotError) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    signalFailure = reject;
  });
  failed.catch(() => undefined);
  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = corruptTar(error);
    signalFailure(failure);
  };

  // The parser emits the next entry only after the previous one ended, so one member is
  // written at a time and the parser's write() reports back-pressure meanwhile.
  let queue = Promise.resolve();
  parser.on('entry', (entry: ReadEntry) => {
    queue = queue.then(() => extractOrSkip(entry));
  });
  const extractOrSkip = async (entry: ReadEntry): Promise<void> => {
    if (failure !== undefined) {
      entry.resume();
      return;
    }
    try {
      await extractor.extract(entry);
    } catch (error) {
      entry.resume();
      fail(error);
    }
  };
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    fail(
      new SandboxError(
        'SANDBOX_UNSUPPORTED_MEMBER',
        `archive member "${entry.path}" has unsupported type ${entry.type}`,
      ),
    );
  });
  // An archive of zero blocks only is a valid empty tar, which the parser reports as an
  // unrecognised format.
  let onlyZeroBytes = true;
  parser.on('error', (error: NodeJS.ErrnoException) => {
    if (!(onlyZeroBytes && error.code === 'TAR_BAD_ARCHIVE')) fail(error);
  });
  const ended = nextEvent(parser, 'end');

  try {
    let tarBytes = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      tarBytes += chunk.length;
      onlyZeroBytes &&= isAllZero(chunk);
      if (tarBytes > maxTarBytes) {
        throw new SandboxError(
          'SANDBOX_TOO_LARGE',
          `archive tar stream exceeds ${maxTarBytes} bytes (content limit plus headers)`,
        );
      }
      if (failure !== undefined) break;
      if (!parser.write(chunk)) await Promise.race([nextEvent(parser, 'drain'), failed]);
    }
    if (failure === undefined) {
      parser.end();
      await Promise.race([ended, failed]);
      await Promise.race([queue, failed]);
    }
  } catch (error) {
    fail(error);
  } finally {
    source.destroy();
  }
  if (failure !== undefined) throw failure;
}
