/**
 * Burrows-Wheeler transform of one bzip2 block. bzip2 sorts the cyclic rotations of the
 * block. Sorting the suffixes of the block written twice, followed by a sentinel smaller than
 * every byte, puts the rotations in the same order. Two rotations that differ do so within
 * their first n characters, and equal rotations may come in any order because they produce
 * the same output. The suffix array is built with SA-IS (induced sorting, Nong,
 * Zhang and Chan 2009), which runs in linear time on every input, repetitive or not.
 */

/** Last column of the sorted rotation matrix and the row of the unrotated block. */
export interface BwtResult {
  /** The last byte of each rotation, in sorted order. */
  lastColumn: Uint8Array;
  /** Row index of the rotation that starts at offset 0 (bzip2's `origPtr`). */
  originalPointer: number;
}

/** Computes the Burrows-Wheeler transform of `block` (at least one byte) over its rotations. */
export function burrowsWheeler(block: Uint8Array): BwtResult {
  const n = block.length;
  const text = new Int32Array(2 * n + 1);
  for (let i = 0; i < n; i++) {
    text[i] = block[i]! + 1;
    text[i + n] = block[i]! + 1;
  }
  text[2 * n] = 0;

  const suffixArray = new Int32Array(text.length);
  buildSuffixArray(text, suffixArray, text.length, 257);

  const lastColumn = new Uint8Array(n);
  let originalPointer = -1;
  let row = 0;
  for (let k = 0; k < suffixArray.length; k++) {
    const start = suffixArray[k]!;
    if (start >= n) continue;
    if (start === 0) originalPointer = row;
    lastColumn[row] = block[start === 0 ? n - 1 : start - 1]!;
    row += 1;
  }
  return { lastColumn, originalPointer };
}

const L_TYPE = 0;
const S_TYPE = 1;

/**
 * Fills `sa` with the suffix array of `text[0..n)`. `text[n - 1]` must be 0 and occur
 * nowhere else, and every other value must be in 1..alphabetSize-1.
 */
export function buildSuffixArray(
  text: Int32Array,
  sa: Int32Array,
  n: number,
  alphabetSize: number,
): void {
  if (n === 1) {
    sa[0] = 0;
    return;
  }
  const types = classifySuffixes(text, n);
  const bucketSizes = new Int32Array(alphabetSize);
  for (let i = 0; i < n; i++) bucketSizes[text[i]!]! += 1;

  // Step 1: sort the LMS substrings by inducing from the LMS positions in any order.
  sa.fill(-1, 0, n);
  const ends = bucketEnds(bucketSizes);
  for (let i = 1; i < n; i++) {
    if (isLms(types, i)) sa[--ends[text[i]!]!] = i;
  }
  induceSort(text, sa, n, types, bucketSizes);

  // Step 2: name the sorted LMS substrings and sort the reduced string recursively.
  const lmsCount = compactLms(sa, n, types);
  const nameCount = nameLmsSubstrings(text, sa, n, types, lmsCount);
  const reduced = new Int32Array(lmsCount);
  let reducedLength = 0;
  for (let i = lmsCount; i < n; i++) {
    if (sa[i]! >= 0) reduced[reducedLength++] = sa[i]!;
  }
  const reducedSa = new Int32Array(lmsCount);
  if (nameCount < lmsCount) {
    buildSuffixArray(reduced, reducedSa, lmsCount, nameCount);
  } else {
    for (let i = 0; i < lmsCount; i++) reducedSa[reduced[i]!] = i;
  }

  // Step 3: place the LMS suffixes in their final order and induce all the others.
  placeSortedLms(text, sa, n, types, bucketSizes, reducedSa);
  induceSort(text, sa, n, types, bucketSizes);
}

function classifySuffixes(text: Int32Array, n: number): Uint8Array {
  const types = new Uint8Array(n);
  types[n - 1] = S_TYPE;
  for (let i = n - 2; i >= 0; i--) {
    const current = text[i]!;
    const next = text[i + 1]!;
    types[i] = current < next || (current === next && types[i + 1] === S_TYPE) ? S_TYPE : L_TYPE;
  }
  return types;
}

function isLms(types: Uint8Array, i: number): boolean {
  return i > 0 && types[i] === S_TYPE && types[i - 1] === L_TYPE;
}

function bucketStarts(sizes: Int32Array): Int32Array {
  const starts = new Int32Array(sizes.length);
  let sum = 0;
  for (let c = 0; c < sizes.length; c++) {
    starts[c] = sum;
    sum += sizes[c]!;
  }
  return starts;
}

function bucketEnds(sizes: Int32Array): Int32Array {
  const ends = new Int32Array(sizes.length);
  let sum = 0;
  for (let c = 0; c < sizes.length; c++) {
    sum += sizes[c]!;
    ends[c] = sum;
  }
  return ends;
}

/** Induces L-type suffixes left to right, then S-type suffixes right to left. */
function induceSort(
  text: Int32Array,
  sa: Int32Array,
  n: number,
  types: Uint8Array,
  bucketSizes: Int32Array,
): void {
  const starts = bucketStarts(bucketSizes);
  for (let i = 0; i < n; i++) {
    const j = sa[i]! - 1;
    if (j >= 0 && types[j] === L_TYPE) sa[starts[text[j]!]!++] = j;
  }
  const ends = bucketEnds(bucketSizes);
  for (let i = n - 1; i >= 0; i--) {
    const j = sa[i]! - 1;
    if (j >= 0 && types[j] === S_TYPE) sa[--ends[text[j]!]!] = j;
  }
}

/** Moves the sorted LMS positions to the front of `sa` and returns how many there are. */
function compactLms(sa: Int32Array, n: number, types: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (isLms(types, sa[i]!)) sa[count++] = sa[i]!;
  }
  sa.fill(-1, count, n);
  return count;
}

/**
 * Gives each sorted LMS substring a name (its rank among distinct substrings), stored at
 * `sa[lmsCount + position / 2]`, which is free because LMS positions are at least 2 apart.
 * Returns the number of distinct names.
 */
function nameLmsSubstrings(
  text: Int32Array,
  sa: Int32Array,
  n: number,
  types: Uint8Array,
  lmsCount: number,
): number {
  let name = -1;
  let previous = -1;
  for (let i = 0; i < lmsCount; i++) {
    const position = sa[i]!;
    if (previous < 0 || !equalLmsSubstrings(text, n, types, previous, position)) name += 1;
    previous = position;
    sa[lmsCount + (position >> 1)] = name;
  }
  return name + 1;
}

function equalLmsSubstrings(
  text: Int32Array,
  n: number,
  types: Uint8Array,
  a: number,
  b: number,
): boolean {
  for (let d = 0; ; d++) {
    if (a + d >= n || b + d >= n) return false;
    if (text[a + d] !== text[b + d] || types[a + d] !== types[b + d]) return false;
    if (d > 0 && (isLms(types, a + d) || isLms(types, b + d))) {
      return isLms(types, a + d) && isLms(types, b + d);
    }
  }
}

/** Writes the LMS suffixes, in the order of `reducedSa`, at the ends of their buckets. */
function placeSortedLms(
  text: Int32Array,
  sa: Int32Array,
  n: number,
  types: Uint8Array,
  bucketSizes: Int32Array,
  reducedSa: Int32Array,
): void {
  const lmsPositions = new Int32Array(reducedSa.length);
  let count = 0;
  for (let i = 1; i < n; i++) {
    if (isLms(types, i)) lmsPositions[count++] = i;
  }
  sa.fill(-1, 0, n);
  const ends = bucketEnds(bucketSizes);
  for (let i = reducedSa.length - 1; i >= 0; i--) {
    const position = lmsPositions[reducedSa[i]!]!;
    sa[--ends[text[position]!]!] = position;
  }
}
