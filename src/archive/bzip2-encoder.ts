/**
 * bzip2 encoder written for this project. It writes one bzip2 stream: the header "BZh" and
 * the block size digit, the blocks, then the end-of-stream magic and the combined CRC. Input
 * is taken incrementally, so memory holds one block and its working arrays.
 *
 * Each block starts with run-length coding: a run of 4 to 255 equal bytes becomes 4 copies
 * and a count byte of 0 to 251. A run is never split across blocks, because a decoder resets
 * its run state at each block start.
 */
import { BitWriter, CRC_INITIAL, finishCrc, updateCrc } from './bzip2-bits.js';
import { writeBlock } from './bzip2-block.js';

/** Max run length that one run-length code covers. */
const MAX_RUN = 255;

/** Incremental bzip2 encoder producing one stream. */
export class Bzip2Encoder {
  private readonly bits = new BitWriter();
  private readonly block: Uint8Array;
  private blockLength = 0;
  private blockCrc = CRC_INITIAL;
  private combinedCrc = 0;
  private full = false;
  private finished = false;
  private runByte = -1;
  private runLength = 0;

  /** Creates an encoder for blocks of `level` x 100 000 run-length coded bytes (1 to 9). */
  constructor(private readonly level = 9) {
    if (!Number.isInteger(level) || level < 1 || level > 9) {
      throw new RangeError(`invalid bzip2 block size level ${level}; use an integer from 1 to 9`);
    }
    this.block = new Uint8Array(level * 100_000);
    this.bits.write(24, 0x425a68); // "BZh"
    this.bits.write(8, 0x30 + level);
  }

  /** Whether the current block is full, so `compressBlock` must run before more `append`. */
  get isBlockFull(): boolean {
    return this.full;
  }

  /**
   * Takes bytes from `input`, starting at `offset`, until the input ends or the block is
   * full. Returns the offset of the first byte not taken.
   */
  append(input: Uint8Array, offset = 0): number {
    this.assertOpen();
    let i = offset;
    while (i < input.length && !this.full) {
      const byte = input[i]!;
      if (byte === this.runByte && this.runLength < MAX_RUN) {
        this.runLength += 1;
        i += 1;
        continue;
      }
      if (this.runLength > 0 && !this.storeRun()) break;
      this.runByte = byte;
      this.runLength = 1;
      i += 1;
    }
    return i;
  }

  /**
   * Compresses the bytes taken so far into a block, if there are any, and returns the
   * compressed bytes completed so far. A run still open stays for the next block.
   */
  compressBlock(): Buffer {
    this.assertOpen();
    if (this.blockLength > 0) {
      const crc = finishCrc(this.blockCrc);
      writeBlock(this.bits, this.block.subarray(0, this.blockLength), crc);
      this.combinedCrc = (((this.combinedCrc << 1) | (this.combinedCrc >>> 31)) ^ crc) >>> 0;
    }
    this.blockLength = 0;
    this.blockCrc = CRC_INITIAL;
    this.full = false;
    return this.bits.takeBytes();
  }

  /** Compresses the remaining input and returns the rest of the stream. */
  finish(): Buffer {
    const parts = [this.flushRuns()];
    this.bits.write48(0x177245, 0x385090);
    this.bits.write32(this.combinedCrc);
    this.bits.alignToByte();
    parts.push(this.bits.takeBytes());
    this.finished = true;
    return Buffer.concat(parts);
  }

  private flushRuns(): Buffer {
    const parts: Buffer[] = [];
    if (this.full) parts.push(this.compressBlock());
    if (this.runLength > 0 && !this.storeRun()) {
      parts.push(this.compressBlock());
      this.storeRun();
    }
    parts.push(this.compressBlock());
    return Buffer.concat(parts);
  }

  /** Moves the open run into the block. Returns false, and marks the block full, if no room. */
  private storeRun(): boolean {
    const byte = this.runByte;
    const length = this.runLength;
    const coded = length < 4 ? length : 5;
    if (this.blockLength + coded > this.block.length) {
      this.full = true;
      return false;
    }
    const copies = Math.min(length, 4);
    for (let k = 0; k < copies; k++) this.block[this.blockLength++] = byte;
    if (length >= 4) this.block[this.blockLength++] = length - 4;
    this.blockCrc = updateCrc(this.blockCrc, byte, length);
    this.runLength = 0;
    this.runByte = -1;
    return true;
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('bzip2 encoder already finished; create a new one');
  }
}

/** Compresses `input` into one bzip2 stream with blocks of `level` x 100 000 bytes. */
export function compressBzip2(input: Uint8Array, level = 9): Buffer {
  const encoder = new Bzip2Encoder(level);
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < input.length) {
    offset = encoder.append(input, offset);
    if (encoder.isBlockFull) parts.push(encoder.compressBlock());
  }
  parts.push(encoder.finish());
  return Buffer.concat(parts);
}
