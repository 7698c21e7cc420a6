/**
 * Compression of one bzip2 block, after the initial run-length step: Burrows-Wheeler
 * transform, move-to-front with RUNA/RUNB coding of zero runs, then Huffman coding.
 */
import type { BitWriter } from './bzip2-bits.js';
import { burrowsWheeler } from './bzip2-bwt.js';
import {
  GROUP_SIZE,
  canonicalCodes,
  planHuffmanTables,
  writeHuffmanTables,
} from './bzip2-huffman.js';

const RUNA = 0;
const RUNB = 1;

/** Symbols of a block after move-to-front and zero-run coding. */
interface MtfSymbols {
  symbols: Uint16Array;
  count: number;
  /** Number of distinct bytes in the block. The alphabet has 2 more symbols than this. */
  usedCount: number;
}

/**
 * Writes one block: magic, block CRC, the origin pointer, the used-bytes bitmap, the Huffman
 * tables and the coded symbols. `block` contains the run-length coded bytes (at least one).
 */
export function writeBlock(bits: BitWriter, block: Uint8Array, blockCrc: number): void {
  const used = new Uint8Array(256);
  for (let i = 0; i < block.length; i++) used[block[i]!] = 1;

  const { lastColumn, originalPointer } = burrowsWheeler(block);
  const mtf = moveToFront(lastColumn, used);
  const alphabetSize = mtf.usedCount + 2;
  const plan = planHuffmanTables(mtf.symbols, mtf.count, alphabetSize);

  bits.write48(0x314159, 0x265359);
  bits.write32(blockCrc);
  bits.write(1, 0); // Not randomised.
  bits.write(24, originalPointer);
  writeUsedBitmap(bits, used);
  writeHuffmanTables(bits, plan);
  writeSymbols(bits, mtf, plan.lengths, plan.selectors);
}

/**
 * Applies move-to-front over the used bytes, codes each run of zeros in bijective base 2
 * with RUNA (digit 1) and RUNB (digit 2), least significant digit first, shifts the other
 * values up by one, and appends the end-of-block symbol.
 */
function moveToFront(input: Uint8Array, used: Uint8Array): MtfSymbols {
  const byteToIndex = new Uint8Array(256);
  const order = new Uint8Array(256);
  let usedCount = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (used[byte] === 0) continue;
    byteToIndex[byte] = usedCount;
    order[usedCount] = usedCount;
    usedCount += 1;
  }

  const symbols = new Uint16Array(input.length + 1);
  let count = 0;
  let zeroRun = 0;
  for (let i = 0; i < input.length; i++) {
    const index = byteToIndex[input[i]!]!;
    if (order[0] === index) {
      zeroRun += 1;
      continue;
    }
    if (zeroRun > 0) {
      count = writeZeroRun(symbols, count, zeroRun);
      zeroRun = 0;
    }
    let position = 1;
    let previous = order[0]!;
    while (order[position] !== index) {
      const current = order[position]!;
      order[position] = previous;
      previous = current;
      position += 1;
    }
    order[position] = previous;
    order[0] = index;
    symbols[count++] = position + 1;
  }
  if (zeroRun > 0) count = writeZeroRun(symbols, count, zeroRun);
  symbols[count++] = usedCount + 1;
  return { symbols, count, usedCount };
}

function writeZeroRun(symbols: Uint16Array, start: number, runLength: number): number {
  let count = start;
  let remaining = runLength;
  while (remaining > 0) {
    if (remaining & 1) {
      symbols[count++] = RUNA;
      remaining = (remaining - 1) >> 1;
    } else {
      symbols[count++] = RUNB;
      remaining = (remaining - 2) >> 1;
    }
  }
  return count;
}

/** Writes which of the 16 ranges of 16 byte values are used, then each used range's bits. */
function writeUsedBitmap(bits: BitWriter, used: Uint8Array): void {
  let ranges = 0;
  for (let range = 0; range < 16; range++) {
    for (let k = 0; k < 16; k++) {
      if (used[range * 16 + k]) {
        ranges |= 0x8000 >>> range;
        break;
      }
    }
  }
  bits.write(16, ranges);
  for (let range = 0; range < 16; range++) {
    if ((ranges & (0x8000 >>> range)) === 0) continue;
    let mask = 0;
    for (let k = 0; k < 16; k++) {
      if (used[range * 16 + k]) mask |= 0x8000 >>> k;
    }
    bits.write(16, mask);
  }
}

function writeSymbols(
  bits: BitWriter,
  mtf: MtfSymbols,
  lengths: Uint8Array[],
  selectors: Uint8Array,
): void {
  const codes = lengths.map(canonicalCodes);
  for (let group = 0; group < selectors.length; group++) {
    const table = selectors[group]!;
    const rowLengths = lengths[table]!;
    const rowCodes = codes[table]!;
    const end = Math.min((group + 1) * GROUP_SIZE, mtf.count);
    for (let i = group * GROUP_SIZE; i < end; i++) {
      const symbol = mtf.symbols[i]!;
      bits.write(rowLengths[symbol]!, rowCodes[symbol]!);
    }
  }
}
