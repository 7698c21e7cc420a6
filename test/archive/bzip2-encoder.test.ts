import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createBzip2JsCompressor, readBzip2WithJs } from '../../src/archive/bzip2.js';
import { burrowsWheeler } from '../../src/archive/bzip2-bwt.js';
import { Bzip2Encoder, compressBzip2 } from '../../src/archive/bzip2-encoder.js';
import { hasProgram, makeScratch, removeScratch } from './fixtures.js';

const hasBzip2 = hasProgram('bzip2');
const noBzip2 = 'bzip2 program not on PATH, so the output is not checked against bzip2 -d';

afterEach(removeScratch);

/** Checks `actual` against `expected` byte for byte (toEqual is slow on megabyte buffers). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing case can be reproduced. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Bytes 0, 1, ..., 255, 0, 1, ...: no two neighbours are equal, so no run is coded. */
function runFreeBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i & 0xff;
  return bytes;
}

async function decodeWithJs(compressed: Buffer): Promise<Buffer> {
  const path = join(await makeScratch('ctao-bzip2-'), 'input.bz2');
  await writeFile(path, compressed);
  const chunks: Buffer[] = [];
  for await (const chunk of readBzip2WithJs(path)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function decodeWithProgram(compressed: Buffer): Buffer {
  return execFileSync('bzip2', ['-dc'], { input: compressed, maxBuffer: 64 * 1024 * 1024 });
}

const degenerateInputs: { name: string; input: () => Buffer }[] = [
  { name: 'empty input', input: () => Buffer.alloc(0) },
  { name: 'one byte', input: () => Buffer.from('x') },
  { name: 'four equal bytes', input: () => Buffer.from('zzzz') },
  { name: '1 MB of one byte', input: () => Buffer.alloc(1 << 20, 0x41) },
  { name: 'all 256 byte values', input: () => runFreeBytes(256) },
  { name: '1.5 MB of random bytes', input: () => pseudoRandomBytes(1_500_000, 7) },
  { name: 'exactly 900 000 bytes', input: () => runFreeBytes(900_000) },
  { name: '900 001 bytes', input: () => runFreeBytes(900_001) },
  {
    name: 'run that does not fit the block',
    input: () => Buffer.concat([runFreeBytes(899_997), Buffer.alloc(10, 0xee), runFreeBytes(50)]),
  },
  {
    name: 'run ending the block exactly',
    input: () => Buffer.concat([runFreeBytes(899_995), Buffer.alloc(300, 0xee), runFreeBytes(9)]),
  },
  {
    name: 'runs of every length to 600',
    input: () => Buffer.concat(Array.from({ length: 601 }, (_, n) => Buffer.alloc(n, n & 0xff))),
  },
  {
    name: 'periodic block',
    input: () => Buffer.from('abcabcabcabc'.repeat(200_000)),
  },
];

describe('compressBzip2', () => {
  for (const { name, input } of degenerateInputs) {
    it(`${name} decodes with the JS decoder`, async () => {
      const data = input();
      expectSameBytes(await decodeWithJs(compressBzip2(data)), data);
    });

    it(`${name} decodes with bzip2 -d`, (context) => {
      if (!hasBzip2) context.skip(noBzip2);
      const data = input();
      expectSameBytes(decodeWithProgram(compressBzip2(data)), data);
    });
  }

  it('empty input gives the 14-byte empty stream', () => {
    const output = compressBzip2(Buffer.alloc(0));
    expect(output.toString('hex')).toBe('425a683917724538509000000000');
  });

  it('block size level sets the header digit', async () => {
    const data = pseudoRandomBytes(250_000, 3);
    const output = compressBzip2(data, 1);
    expect(output.subarray(0, 4).toString('latin1')).toBe('BZh1');
    expectSameBytes(await decodeWithJs(output), data);
  });

  it('invalid block size level is rejected', () => {
    expect(() => new Bzip2Encoder(0)).toThrow(/invalid bzip2 block size level 0/);
    expect(() => new Bzip2Encoder(10)).toThrow(/invalid bzip2 block size level 10/);
  });

  it('finished encoder rejects more input', () => {
    const encoder = new Bzip2Encoder();
    encoder.finish();
    expect(() => encoder.append(Buffer.from('late'))).toThrow(/already finished/);
  });
});

describe('Bzip2Encoder', () => {
  it('small chunks give the one-shot output', () => {
    const data = Buffer.concat([pseudoRandomBytes(400_000, 11), Buffer.alloc(1_200_000, 0x20)]);
    const encoder = new Bzip2Encoder();
    const parts: Buffer[] = [];
    for (let start = 0; start < data.length; start += 4093) {
      const chunk = data.subarray(start, start + 4093);
      let offset = 0;
      while (offset < chunk.length) {
        offset = encoder.append(chunk, offset);
        if (encoder.isBlockFull) parts.push(encoder.compressBlock());
      }
    }
    parts.push(encoder.finish());
    expectSameBytes(Buffer.concat(parts), compressBzip2(data));
  });
});

describe('burrowsWheeler', () => {
  function sortRotationsNaively(block: Buffer): { last: number[]; rows: string[] } {
    const n = block.length;
    const rotations = Array.from({ length: n }, (_, i) =>
      Buffer.concat([block.subarray(i), block.subarray(0, i)]),
    );
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => Buffer.compare(rotations[a]!, rotations[b]!));
    return {
      last: order.map((i) => block[(i + n - 1) % n]!),
      rows: order.map((i) => rotations[i]!.toString('hex')),
    };
  }

  it('matches a naive rotation sort', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const random = pseudoRandomBytes(1 + (seed % 37), seed);
      const alphabet = 1 + (seed % 4);
      const block = Buffer.from(random.map((byte) => (byte % alphabet) * 50));
      const result = burrowsWheeler(block);
      const expected = sortRotationsNaively(block);
      expect([...result.lastColumn], `seed ${seed}`).toEqual(expected.last);
      expect(expected.rows[result.originalPointer], `seed ${seed}`).toBe(block.toString('hex'));
    }
  });
});

describe('createBzip2JsCompressor', () => {
  it('stream output decodes with the JS decoder', async () => {
    const data = Buffer.concat([pseudoRandomBytes(1_000_000, 5), runFreeBytes(900_000)]);
    const compressor = await createBzip2JsCompressor();
    const output = buffer(compressor);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
      data.subarray(i * 65536, (i + 1) * 65536),
    );
    await pipeline(Readable.from(chunks), compressor);
    expectSameBytes(await decodeWithJs(await output), data);
  });
});

describe('compressed size', () => {
  it('text is within 10 % of bzip2 -9', (context) => {
    if (!hasBzip2) context.skip(noBzip2);
    const folder = join(import.meta.dirname, '..', '..', 'src', 'archive');
    const text = Buffer.concat(
      readdirSync(folder)
        .filter((name) => name.endsWith('.ts'))
        .sort()
        .map((name) => readFileSync(join(folder, name))),
    );
    const reference = execFileSync('bzip2', ['-9c'], { input: text }).length;
    const ours = compressBzip2(text).length;
    expect(ours).toBeLessThan(reference * 1.1);
    expect(ours).toBeGreaterThan(reference * 0.9);
  });
});
