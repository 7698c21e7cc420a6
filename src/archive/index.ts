/**
 * Sandbox archives: packing a folder into a compressed tar file and unpacking one safely.
 * Formats are tar.zst, tar.bz2, tar.gz and plain tar. Unpacking detects the format from the
 * file's magic bytes.
 */
export type { ArchiveFormat } from './formats.js';
export { preferredFormat } from './formats.js';
export type { Bzip2Codec } from './bzip2.js';
export { packSandbox, type PackOptions, type PackResult } from './pack.js';
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_MEMBERS,
  unpackSandbox,
  type UnpackOptions,
  type UnpackResult,
} from './unpack.js';
export { sha256File } from './checksum.js';
