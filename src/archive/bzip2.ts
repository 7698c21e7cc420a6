/**
 * bzip2 codecs. The `bzip2` program is used when it is on PATH because the pure-JS codecs are
 * slow: on a 10 MB tar of TypeScript sources (2-core Xeon, Node 20.20) compressjs compressed
 * 0.54 MB/s and seek-bzip decompressed 12 MB/s, where `bzip2` did about 10 MB/s and 50 MB/s.
 * The encoder in bzip2-encoder.ts, which replaced compressjs, did 3.8 to 4.2 MB/s from an
 * esbuild bundle on the same kind of machine, on 10 MB tars of source files, with output
 * within 0.1 % of the size `bzip2 -9` writes. On random bytes it did 2.2 MB/s.
 * The pure-JS codecs are the fallback for nodes without the program.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Bunzip from 'seek-bzip';
import { SandboxError } from '../errors.js';
import { Bzip2Encoder } from './bzip2-encoder.js';

/** bzip2 implementation: `auto` (the `bzip2` program when on PATH), `program` or `javascript`. */
export type Bzip2Codec = 'auto' | 'program' | 'javascript';

/** Returns the absolute path of `name` in the PATH of `env`, or undefined. */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder, so try the next one.
    }
  }
  return undefined;
}

/** Returns the `bzip2` program to run for `codec`, or undefined to use pure JS. */
export async function resolveBzip2Program(codec: Bzip2Codec): Promise<string | undefined> {
  if (codec === 'javascript') return undefined;
  const program = await findOnPath('bzip2');
  if (program === undefined && codec === 'program') {
    throw new SandboxError(
      'SANDBOX_CODEC_MISSING',
      'bzip2 program not found on PATH; install bzip2 or use the pure-JS codec',
    );
  }
  return program;
}

/**
 * Waits for `child` to exit, and rejects unless its exit status is 0. Exit status 2, which
 * bzip2 uses for corrupt input, raises `SANDBOX_CORRUPT_ARCHIVE`.
 */
export function waitForExit(child: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      reject(new SandboxError('SANDBOX_CODEC_FAILED', `${what} failed to start`, { cause: error }));
    });
    child.once('close', (exitStatus, signal) => {
      if (exitStatus === 0) {
        resolve();
        return;
      }
      const status = signal === null ? `exit status ${exitStatus}` : `signal ${signal}`;
      const detail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
      const code = exitStatus === 2 ? 'SANDBOX_CORRUPT_ARCHIVE' : 'SANDBOX_CODEC_FAILED';
      reject(new SandboxError(code, `${what} failed with ${status}${detail}`));
    });
  });
}

/**
 * Returns the decompressed bytes of the bzip2 file at `path`, read from `bzip2 -dc`. The
 * stream ends only after the program exits with status 0, and errors otherwise.
 */
export function readBzip2WithProgram(program: string, path: string): Readable {
  const child = spawn(program, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new PassThrough();
  const exited = waitForExit(child, 'bzip2 decompression');

  child.stdout.pipe(output, { end: false });
  exited.then(
    () => output.end(),
    (error: unknown) => output.destroy(error as Error),
  );
  // A consumer that stops early (a limit reached, an unsafe member) stops the program too.
  output.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return output;
}

/** Returns a pure-JS bzip2 encoder stream. */
export function createBzip2JsCompressor(): Promise<Transform> {
  return Promise.resolve(new Bzip2JsCompressor());
}

/**
 * Pure-JS bzip2 encoder stream writing one bzip2 stream. Memory holds one 900 kB block and
 * its working arrays. Each block blocks the event loop for about 0.25 s on that machine, and
 * the stream yields to the event loop after each block so heartbeats keep running.
 */
class Bzip2JsCompressor extends Transform {
  private readonly encoder = new Bzip2Encoder(9);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.encodeChunk(chunk).then(
      () => callback(),
      (error: unknown) => callback(error as Error),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      callback(null, this.encoder.finish());
    } catch (error) {
      callback(error as Error);
    }
  }

  private async encodeChunk(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      offset = this.encoder.append(chunk, offset);
      if (!this.encoder.isBlockFull) continue;
      this.push(this.encoder.compressBlock());
      await yieldToEventLoop();
    }
  }
}

/** Synchronous buffered byte source over a file descriptor, as seek-bzip expects. */
class FileByteSource {
  private readonly buffer = Buffer.alloc(64 * 1024);
  private length = 0;
  private position = 0;
  private ended = false;

  constructor(private readonly fd: number) {}

  readByte(): number {
    if (this.position >= this.length && !this.fill()) return -1;
    return this.buffer[this.position++] ?? -1;
  }

  read(target: Uint8Array, offset: number, length: number): number {
    let count = 0;
    while (count < length) {
      const byte = this.readByte();
      if (byte < 0) break;
      target[offset + count] = byte;
      count += 1;
    }
    return count === 0 && length > 0 ? -1 : count;
  }

  eof(): boolean {
    return this.position >= this.length && !this.fill();
  }

  private fill(): boolean {
    if (this.ended) return false;
    this.length = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    this.position = 0;
    this.ended = this.length === 0;
    return !this.ended;
  }
}

/** Byte sink that collects decoded bytes into chunks. */
class ChunkSink {
  private chunks: Buffer[] = [];
  private current = Buffer.alloc(256 * 1024);
  private used = 0;

  writeByte(byte: number): void {
    if (this.used === this.current.length) {
      this.chunks.push(this.current);
      this.current = Buffer.alloc(this.current.length);
      this.used = 0;
    }
    this.current[this.used++] = byte;
  }

  /** Returns the bytes written since the last call. */
  take(): Buffer[] {
    const taken = this.chunks;
    if (this.used > 0) taken.push(Buffer.from(this.current.subarray(0, this.used)));
    this.chunks = [];
    this.used = 0;
    return taken;
  }
}

/**
 * Decodes the bzip2 file at `path` in pure JS, one block at a time, yielding to the event
 * loop between blocks so heartbeats keep running. Concatenated streams are read in order.
 */
export async function* readBzip2WithJs(path: string): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const source = new FileByteSource(fd);
    const sink = new ChunkSink();
    // NOTE: this drives seek-bzip 2.0's internal block methods, the loop its own decode()
    // runs, because decode() has no way to return a block before the whole file is done.
    const decoder = new Bunzip(source, sink);
    while (!source.eof()) {
      if (decoder._init_block()) {
        decoder._read_bunzip();
        yield* sink.take();
        await yieldToEventLoop();
        continue;
      }
      const expectedCrc = decoder.reader.read(32) >>> 0;
      if (expectedCrc !== decoder.streamCRC) {
        throw new SandboxError('SANDBOX_CORRUPT_ARCHIVE', `bzip2 stream CRC mismatch in ${path}`);
      }
      if (source.eof()) break;
      decoder._start_bunzip(source, sink);
    }
    yield* sink.take();
  } finally {
    closeSync(fd);
  }
}
