/**
 * A deterministic folder of files like a job's outputs: text logs and binary traces with a
 * flat baseline, noise and rare pulses. The same size gives the same bytes on every run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Share of the bytes that are text logs; the rest are binary traces. */
const TEXT_SHARE = 0.6;

/** Size of each generated file, in bytes, except the last of each kind. */
const FILE_BYTES = 4_000_000;

const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'DEBUG', 'WARNING', 'ERROR'];
const SOURCES = ['camera.trigger', 'camera.readout', 'calib.pedestal', 'reco.hillas', 'io.writer'];

/** Seeded xorshift32 generator returning numbers in [0, 1). */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Writes about `totalBytes` of files into `folder` (created if missing): `logs/*.log` and
 * `traces/*.bin`. Returns the exact number of bytes written.
 */
export function writeSandboxCorpus(folder: string, totalBytes: number): number {
  const textBytes = Math.round(totalBytes * TEXT_SHARE);
  const written =
    writeFiles(path.join(folder, 'logs'), 'log', textBytes, makeLogFile) +
    writeFiles(path.join(folder, 'traces'), 'bin', totalBytes - textBytes, makeTraceFile);
  return written;
}

function writeFiles(
  folder: string,
  extension: string,
  bytes: number,
  make: (bytes: number, seed: number) => Buffer,
): number {
  mkdirSync(folder, { recursive: true });
  let written = 0;
  for (let index = 0; written < bytes; index += 1) {
    const data = make(Math.min(FILE_BYTES, bytes - written), index + 1);
    const name = `part-${String(index).padStart(3, '0')}.${extension}`;
    writeFileSync(path.join(folder, name), data);
    written += data.length;
  }
  return written;
}

/** Log lines with a timestamp, level, source and a few varying numbers, cut to `bytes`. */
function makeLogFile(bytes: number, seed: number): Buffer {
  const random = makeRandom(seed * 7919);
  const lines: string[] = [];
  let length = 0;
  let clockMs = Date.UTC(2026, 0, 1) + seed * 3_600_000;
  for (let event = 0; length < bytes; event += 1) {
    clockMs += Math.floor(random() * 40);
    const level = LEVELS[Math.floor(random() * LEVELS.length)]!;
    const source = SOURCES[Math.floor(random() * SOURCES.length)]!;
    const tel = 1 + Math.floor(random() * 4);
    const charge = (random() * 500).toFixed(2);
    const peak = (random() * 40).toFixed(1);
    const line =
      `${new Date(clockMs).toISOString()} ${level.padEnd(7)} [${source}] event=${event} ` +
      `tel=${tel} charge=${charge} pe peak_time=${peak} ns\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1').subarray(0, bytes);
}

/** Little-endian 16-bit samples: a baseline near 400 counts, noise of a few counts, rare pulses. */
function makeTraceFile(bytes: number, seed: number): Buffer {
  const random = makeRandom(seed * 104_729);
  const data = Buffer.alloc(bytes);
  let pulse = 0;
  for (let offset = 0; offset + 1 < bytes; offset += 2) {
    if (pulse === 0 && random() < 0.002) pulse = 200 + Math.floor(random() * 2000);
    const noise = Math.floor(random() * 8) - 4;
    data.writeUInt16LE(400 + noise + pulse, offset);
    pulse = Math.floor(pulse * 0.7);
  }
  return data;
}
