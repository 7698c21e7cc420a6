import { open } from 'node:fs/promises';
import zlib from 'node:zlib';

/** Archive format: a tar stream, compressed with zstd, bzip2 or gzip, or plain. */
export type ArchiveFormat = 'tar.zst' | 'tar.bz2' | 'tar.gz' | 'tar';

/** Stream factories that Node 22.15 adds to `node:zlib`, missing from the Node 20 typings. */
interface ZstdZlib {
  createZstdCompress?: () => NodeJS.ReadWriteStream;
  createZstdDecompress?: () => NodeJS.ReadWriteStream;
}

/** Returns Node's zstd stream factories, or undefined on a runtime older than Node 22.15. */
export function zlibZstd(): Required<ZstdZlib> | undefined {
  const candidate = zlib as unknown as ZstdZlib;
  if (
    typeof candidate.createZstdCompress !== 'function' ||
    typeof candidate.createZstdDecompress !== 'function'
  ) {
    return undefined;
  }
  return candidate as Required<ZstdZlib>;
}

/**
 * Returns the format new sandboxes are written in: tar.zst where `node:zlib` has zstd
 * (Node 22.15 and later), else tar.bz2, which the pure-JS encoder can always write.
 */
export function preferredFormat(): 'tar.zst' | 'tar.bz2' {
  return zlibZstd() === undefined ? 'tar.bz2' : 'tar.zst';
}

/** Returns the format of `bytes`, the first bytes of an archive, from its magic number. */
export function formatFromMagic(bytes: Uint8Array): ArchiveFormat {
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) {
    return 'tar.zst';
  }
  // "BZh" followed by the block size digit 1 to 9.
  const digit = bytes[3] ?? 0;
  if (
    bytes[0] === 0x42 &&
    bytes[1] === 0x5a &&
    bytes[2] === 0x68 &&
    digit >= 0x31 &&
    digit <= 0x39
  ) {
    return 'tar.bz2';
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return 'tar.gz';
  }
  return 'tar';
}

/** Reads the first bytes of the file at `path` and returns its format. */
export async function detectFormat(path: string): Promise<ArchiveFormat> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return formatFromMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
