/**
 * Huffman tables of the bzip2 encoder. A block's symbols are cut into groups of 50, and each
 * group is coded with one of 2 to 6 tables. The tables are refined a few times: each group
 * picks the table that codes it in the fewest bits, then each table is rebuilt from the
 * symbol counts of the groups that picked it.
 */
import type { BitWriter } from './bzip2-bits.js';

/** Symbols coded with one selector. */
export const GROUP_SIZE = 50;

/** Max code length written. The format allows 20, and bzip2 1.0 itself writes at most 17. */
const MAX_CODE_LENGTH = 17;

const REFINE_PASSES = 4;

/** Code lengths and the selector of each group, ready to write. */
export interface HuffmanPlan {
  /** Code length of each symbol, one row of `alphabetSize` per table. */
  lengths: Uint8Array[];
  /** Table index for each group of `GROUP_SIZE` symbols. */
  selectors: Uint8Array;
}

/** Returns the number of tables for a block of `symbolCount` symbols. */
function tableCountFor(symbolCount: number): number {
  if (symbolCount < 200) return 2;
  if (symbolCount < 600) return 3;
  if (symbolCount < 1200) return 4;
  if (symbolCount < 2400) return 5;
  return 6;
}

/** Chooses the tables and selectors for `symbols[0..count)`, values below `alphabetSize`. */
export function planHuffmanTables(
  symbols: Uint16Array,
  count: number,
  alphabetSize: number,
): HuffmanPlan {
  const tableCount = tableCountFor(count);
  const groupCount = Math.ceil(count / GROUP_SIZE);
  const lengths = initialTables(symbols, count, alphabetSize, tableCount);
  const selectors = new Uint8Array(groupCount);
  const counts = Array.from({ length: tableCount }, () => new Int32Array(alphabetSize));

  for (let pass = 0; pass < REFINE_PASSES; pass++) {
    for (const row of counts) row.fill(0);
    for (let group = 0; group < groupCount; group++) {
      const start = group * GROUP_SIZE;
      const end = Math.min(start + GROUP_SIZE, count);
      const best = cheapestTable(lengths, symbols, start, end);
      selectors[group] = best;
      const row = counts[best]!;
      for (let i = start; i < end; i++) row[symbols[i]!]! += 1;
    }
    for (let t = 0; t < tableCount; t++) buildCodeLengths(counts[t]!, lengths[t]!);
  }
  return { lengths, selectors };
}

/**
 * Returns starting tables that each cover one contiguous range of symbol values holding
 * about an equal share of the symbols: cost 0 inside the range and 15 bits outside it.
 */
function initialTables(
  symbols: Uint16Array,
  count: number,
  alphabetSize: number,
  tableCount: number,
): Uint8Array[] {
  const frequency = new Int32Array(alphabetSize);
  for (let i = 0; i < count; i++) frequency[symbols[i]!]! += 1;

  const tables: Uint8Array[] = [];
  let remaining = count;
  let next = 0;
  for (let t = 0; t < tableCount; t++) {
    const target = remaining / (tableCount - t);
    const table = new Uint8Array(alphabetSize).fill(15);
    let taken = 0;
    const first = next;
    while (next < alphabetSize && (next === first || taken + frequency[next]! <= target)) {
      taken += frequency[next]!;
      table[next++] = 0;
    }
    remaining -= taken;
    tables.push(table);
  }
  return tables;
}

function cheapestTable(
  lengths: Uint8Array[],
  symbols: Uint16Array,
  start: number,
  end: number,
): number {
  let best = 0;
  let bestCost = Infinity;
  for (let t = 0; t < lengths.length; t++) {
    const row = lengths[t]!;
    let cost = 0;
    for (let i = start; i < end; i++) cost += row[symbols[i]!]!;
    if (cost < bestCost) {
      bestCost = cost;
      best = t;
    }
  }
  return best;
}

/**
 * Fills `lengths` with Huffman code lengths of at most `MAX_CODE_LENGTH` bits for
 * `frequency`. Every symbol gets a code, because bzip2 tables list a length for each one.
 * When the tree is too deep, the weights are halved (keeping at least 1) and it is rebuilt.
 */
export function buildCodeLengths(frequency: Int32Array, lengths: Uint8Array): void {
  const weights = new Int32Array(frequency.length);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.max(frequency[i]!, 1);
  for (;;) {
    if (treeDepths(weights, lengths) <= MAX_CODE_LENGTH) return;
    for (let i = 0; i < weights.length; i++) weights[i] = 1 + (weights[i]! >> 1);
  }
}

/** Builds a Huffman tree over `weights`, writes each leaf depth, and returns the max depth. */
function treeDepths(weights: Int32Array, depths: Uint8Array): number {
  const leafCount = weights.length;
  const nodeWeight = new Float64Array(2 * leafCount);
  const parent = new Int32Array(2 * leafCount).fill(-1);
  const heap = new MinHeap(nodeWeight, 2 * leafCount);
  for (let i = 0; i < leafCount; i++) {
    nodeWeight[i] = weights[i]!;
    heap.push(i);
  }
  let nextNode = leafCount;
  while (heap.size > 1) {
    const a = heap.pop();
    const b = heap.pop();
    nodeWeight[nextNode] = nodeWeight[a]! + nodeWeight[b]!;
    parent[a] = nextNode;
    parent[b] = nextNode;
    heap.push(nextNode++);
  }

  let maxDepth = 0;
  for (let i = 0; i < leafCount; i++) {
    let depth = 0;
    for (let node = i; parent[node]! >= 0; node = parent[node]!) depth += 1;
    depths[i] = depth;
    maxDepth = Math.max(maxDepth, depth);
  }
  return maxDepth;
}

/** Binary min-heap of node indices ordered by an external weight array. */
class MinHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(
    private readonly weight: Float64Array,
    capacity: number,
  ) {
    this.items = new Int32Array(capacity);
  }

  push(node: number): void {
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.weight[this.items[up]!]! <= this.weight[node]!) break;
      this.items[i] = this.items[up]!;
      i = up;
    }
    this.items[i] = node;
  }

  pop(): number {
    const top = this.items[0]!;
    const last = this.items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(child + 1, child)) child += 1;
      if (this.weight[this.items[child]!]! >= this.weight[last]!) break;
      this.items[i] = this.items[child]!;
      i = child;
    }
    this.items[i] = last;
    return top;
  }

  private less(a: number, b: number): boolean {
    return this.weight[this.items[a]!]! < this.weight[this.items[b]!]!;
  }
}

/**
 * Returns canonical codes for `lengths`: codes are handed out by increasing length, and in
 * symbol order within one length, which is the order a bzip2 decoder rebuilds them in.
 */
export function canonicalCodes(lengths: Uint8Array): Int32Array {
  const codes = new Int32Array(lengths.length);
  let code = 0;
  for (let length = 1; length <= MAX_CODE_LENGTH; length++) {
    for (let symbol = 0; symbol < lengths.length; symbol++) {
      if (lengths[symbol] === length) codes[symbol] = code++;
    }
    code <<= 1;
  }
  return codes;
}

/** Writes the table count, the MTF-coded selectors and the delta-coded code lengths. */
export function writeHuffmanTables(bits: BitWriter, plan: HuffmanPlan): void {
  const tableCount = plan.lengths.length;
  bits.write(3, tableCount);
  bits.write(15, plan.selectors.length);

  const order = Array.from({ length: tableCount }, (_, t) => t);
  for (const selector of plan.selectors) {
    const position = order.indexOf(selector);
    // Unary code: `position` one bits, then a zero bit.
    for (let i = 0; i < position; i++) bits.write(1, 1);
    bits.write(1, 0);
    order.splice(position, 1);
    order.unshift(selector);
  }

  for (const row of plan.lengths) {
    let current = row[0]!;
    bits.write(5, current);
    for (const length of row) {
      // Each step is "10" (one longer) or "11" (one shorter), and a 0 bit ends the symbol.
      while (current < length) {
        bits.write(2, 2);
        current += 1;
      }
      while (current > length) {
        bits.write(2, 3);
        current -= 1;
      }
      bits.write(1, 0);
    }
  }
}
