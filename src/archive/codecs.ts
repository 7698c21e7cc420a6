/**
 * Compression and decompression streams for each archive format. gzip comes from node:zlib,
 * and so does zstd on Node 22.15 and later. Older runtimes decompress zstd with fzstd (pure
 * JS). bzip2 uses the program when present and pure JS otherwise.
 */
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as ZstdJsDecompress } from 'fzstd';
import { SandboxError } from '../errors.js';
import {
  createBzip2JsCompressor,
  readBzip2WithJs,
  readBzip2WithProgram,
  resolveBzip2Program,
} from './bzip2.js';
import type { Bzip2Codec } from './bzip2.js';
import { zlibZstd, type ArchiveFormat } from './formats.js';

/** fzstd's streaming decoder as a Node transform stream. */
class ZstdJsDecompressor extends Transform {
  private readonly decoder = new ZstdJsDecompress((data) => {
    this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      callback();
    } catch (error) {
      callback(corrupt('zstd', error));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (error) {
      callback(corrupt('zstd', error));
    }
  }
}

function corrupt(codec: string, cause: unknown): SandboxError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new SandboxError('SANDBOX_CORRUPT_ARCHIVE', `invalid ${codec} data: ${detail}`, {
    cause,
  });
}

/** Compressor of the tar stream on its way to the archive file. */
export type Compressor =
  { kind: 'none' } | { kind: 'stream'; stream: Transform } | { kind: 'program'; program: string };

/** Selects the compressor for `format`, using the bzip2 program where `bzip2Codec` allows. */
export async function selectCompressor(
  format: ArchiveFormat,
  bzip2Codec: Bzip2Codec,
): Promise<Compressor> {
  switch (format) {
    case 'tar':
      return { kind: 'none' };
    case 'tar.gz':
      return { kind: 'stream', stream: zlib.createGzip({ level: 6 }) };
    case 'tar.zst': {
      const zstd = zlibZstd();
      if (zstd === undefined) {
        throw new SandboxError(
          'SANDBOX_UNSUPPORTED_FORMAT',
          `cannot write tar.zst: node:zlib has no zstd in Node ${process.versions.node}; ` +
            'use tar.bz2 or Node 22.15 or later',
        );
      }
      return { kind: 'stream', stream: zstd.createZstdCompress() as unknown as Transform };
    }
    case 'tar.bz2': {
      const program = await resolveBzip2Program(bzip2Codec);
      if (program !== undefined) return { kind: 'program', program };
      return { kind: 'stream', stream: await createBzip2JsCompressor() };
    }
  }
}

/** Returns a stream of the plain tar bytes of the archive at `path`, written in `format`. */
export async function openTarStream(
  path: string,
  format: ArchiveFormat,
  bzip2Codec: Bzip2Codec,
): Promise<Readable> {
  switch (format) {
    case 'tar':
      return createReadStream(path);
    case 'tar.gz':
      return decodeWith(path, zlib.createGunzip() as unknown as Transform, 'gzip');
    case 'tar.zst': {
      const zstd = zlibZstd();
      const decoder =
        zstd === undefined
          ? new ZstdJsDecompressor()
          : (zstd.createZstdDecompress() as unknown as Transform);
      return decodeWith(path, decoder, 'zstd');
    }
    case 'tar.bz2': {
      const program = await resolveBzip2Program(bzip2Codec);
      if (program !== undefined) return readBzip2WithProgram(program, path);
      return Readable.from(wrapBzip2Errors(readBzip2WithJs(path)), { objectMode: false });
    }
  }
}

function decodeWith(path: string, decoder: Transform, codec: string): Readable {
  const source = createReadStream(path);
  source.once('error', (error) => decoder.destroy(error));
  decoder.once('close', () => source.destroy());
  // zlib errors are plain Errors with a zlib code, so they are raised as a corrupt archive.
  const output = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk);
    },
  });
  decoder.once('error', (error) => {
    output.destroy(error instanceof SandboxError ? error : corrupt(codec, error));
  });
  output.once('close', () => decoder.destroy());
  return source.pipe(decoder).pipe(output);
}

async function* wrapBzip2Errors(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (error) {
    if (error instanceof SandboxError) throw error;
    throw corrupt('bzip2', error);
  }
}
