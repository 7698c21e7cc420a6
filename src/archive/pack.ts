import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as createTar } from 'tar';
import { SandboxError } from '../errors.js';
import { waitForExit, type Bzip2Codec } from './bzip2.js';
import { DigestStream } from './checksum.js';
import { selectCompressor } from './codecs.js';
import { preferredFormat, type ArchiveFormat } from './formats.js';
import { listMembers } from './members.js';

/** Options of {@link packSandbox}. */
export interface PackOptions {
  /** Folder whose contents are archived. Member names are relative to it. */
  sourceDir: string;
  /** Paths relative to `sourceDir`, where a folder brings its contents. Default: everything. */
  members?: string[];
  /** Archive file to write. It appears only once complete (written beside it, then renamed). */
  outFile: string;
  /** Default: {@link preferredFormat}. */
  format?: ArchiveFormat;
  /** bzip2 implementation for tar.bz2. Default `auto`: the program when on PATH. */
  bzip2Codec?: Bzip2Codec;
}

/** Result of {@link packSandbox}. */
export interface PackResult {
  /** Absolute path of the archive. */
  path: string;
  format: ArchiveFormat;
  /** Size of the archive file in bytes. */
  size: number;
  /** SHA-256 of the archive file, lowercase hex. */
  sha256: string;
}

/**
 * Writes a tar archive of `sourceDir`, compressed in `format`, streaming from the files to
 * the archive. Members are sorted by name and stored without owner names or ids, so the
 * same files with the same modification times give the same bytes. Symbolic links are
 * stored as links, not followed.
 */
export async function packSandbox(options: PackOptions): Promise<PackResult> {
  const format = options.format ?? preferredFormat();
  const outFile = resolve(options.outFile);
  const partFile = `${outFile}.part`;
  const members = await listMembers(options.sourceDir, options.members);
  const digest = new DigestStream();

  try {
    const tarStream = openTar(options.sourceDir, members);
    await compressInto(tarStream, format, options.bzip2Codec ?? 'auto', digest, partFile);
    await rename(partFile, outFile);
  } catch (error) {
    await rm(partFile, { force: true });
    if (error instanceof SandboxError) throw error;
    throw new SandboxError(
      'SANDBOX_PACK_FAILED',
      `packing ${options.sourceDir} into ${outFile} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const { size } = await stat(outFile);
  return { path: outFile, format, size, sha256: digest.hexDigest() };
}

/** Returns the tar stream of `members`. No members give the two zero blocks of an empty tar. */
function openTar(sourceDir: string, members: string[]): Readable {
  if (members.length === 0) return Readable.from([Buffer.alloc(1024)], { objectMode: false });
  const pack = createTar(
    { cwd: sourceDir, portable: true, noDirRecurse: true, strict: true },
    members,
  );
  return Readable.from(pack, { objectMode: false });
}

async function compressInto(
  tarStream: Readable,
  format: ArchiveFormat,
  bzip2Codec: Bzip2Codec,
  digest: DigestStream,
  partFile: string,
): Promise<void> {
  const compressor = await selectCompressor(format, bzip2Codec);
  const file: Writable = createWriteStream(partFile, { flags: 'w', mode: 0o644 });

  if (compressor.kind === 'none') {
    await pipeline(tarStream, digest, file);
    return;
  }
  if (compressor.kind === 'stream') {
    await pipeline(tarStream, compressor.stream, digest, file);
    return;
  }

  const child = spawn(compressor.program, ['-c', '-9'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = waitForExit(child, 'bzip2 compression');
  try {
    await Promise.all([
      pipeline(tarStream, child.stdin),
      pipeline(child.stdout, digest, file),
      exited,
    ]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
