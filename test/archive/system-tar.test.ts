import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packSandbox, unpackSandbox, type Bzip2Codec } from '../../src/archive/index.js';
import { hasProgram, listTree, makeScratch, removeScratch, writeSampleTree } from './fixtures.js';

afterEach(removeScratch);

const hasBzip2 = hasProgram('bzip2');
const hasZstd = hasProgram('zstd');

/** Archives made by GNU tar: flag, file name, and why the case is skipped (or false). */
const systemCases: { flag: string[]; file: string; skip: string | false }[] = [
  { flag: [], file: 'plain.tar', skip: false },
  { flag: ['-z'], file: 'gnu.tar.gz', skip: false },
  { flag: ['-j'], file: 'gnu.tar.bz2', skip: hasBzip2 ? false : 'bzip2 program missing' },
  { flag: ['--zstd'], file: 'gnu.tar.zst', skip: hasZstd ? false : 'zstd program missing' },
];

async function unpackAndCompare(archive: string, source: string, codec: Bzip2Codec) {
  const target = await makeScratch();
  const result = await unpackSandbox({ archive, targetDir: target, bzip2Codec: codec });
  expect(await listTree(target)).toEqual(await listTree(source));
  const events = join('data', 'deep', 'events.bin');
  const same = (await readFile(join(target, events))).equals(await readFile(join(source, events)));
  expect(same).toBe(true);
  return result;
}

describe('archives made by GNU tar', () => {
  for (const { flag, file, skip } of systemCases) {
    it.skipIf(skip !== false)(`reads tar ${flag.join(' ') || '(plain)'}`, async () => {
      const source = await makeScratch();
      await writeSampleTree(source);
      const archive = join(await makeScratch(), file);
      execFileSync('tar', ['-c', ...flag, '-f', archive, '-C', source, '.']);

      const result = await unpackAndCompare(archive, source, 'auto');
      // GNU tar names the root "./", which is skipped, and every member "./name".
      expect(result.members).toContain('data/deep/events.bin');
      expect(result.members).not.toContain('.');
    });
  }

  it.skipIf(!hasBzip2)('reads tar -j in pure JS', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const archive = join(await makeScratch(), 'gnu.tar.bz2');
    execFileSync('tar', ['-cjf', archive, '-C', source, '.']);
    await unpackAndCompare(archive, source, 'javascript');
  });

  it.skipIf(!hasBzip2)('reads concatenated bzip2 streams in pure JS', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const scratch = await makeScratch();
    const tarFile = join(scratch, 'plain.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', source, '.']);
    const tarBytes = await readFile(tarFile);
    const half = 512 * Math.floor(tarBytes.length / 1024);
    const first = execFileSync('bzip2', ['-c'], { input: tarBytes.subarray(0, half) });
    const second = execFileSync('bzip2', ['-c'], { input: tarBytes.subarray(half) });
    const archive = join(scratch, 'two-streams.tar.bz2');
    await writeFile(archive, Buffer.concat([first, second]));

    await unpackAndCompare(archive, source, 'javascript');
  });
});

describe('archives read by GNU tar', () => {
  const ours: { format: 'tar' | 'tar.gz' | 'tar.bz2'; codec: Bzip2Codec; skip: boolean }[] = [
    { format: 'tar', codec: 'auto', skip: false },
    { format: 'tar.gz', codec: 'auto', skip: false },
    { format: 'tar.bz2', codec: 'javascript', skip: !hasBzip2 },
    { format: 'tar.bz2', codec: 'program', skip: !hasBzip2 },
  ];
  for (const { format, codec, skip } of ours) {
    it.skipIf(skip)(`extracts ${format} (${codec})`, async () => {
      const source = await makeScratch();
      await writeSampleTree(source);
      const archive = join(await makeScratch(), `ours.${format}`);
      await packSandbox({ sourceDir: source, outFile: archive, format, bzip2Codec: codec });

      const target = await makeScratch();
      execFileSync('tar', ['-xf', archive, '-C', target]);
      expect(await listTree(target)).toEqual(await listTree(source));
    });
  }
});
