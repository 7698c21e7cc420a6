import { execFileSync } from 'node:child_process';
import { access, lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  packSandbox,
  preferredFormat,
  sha256File,
  unpackSandbox,
  type ArchiveFormat,
  type Bzip2Codec,
} from '../../src/archive/index.js';
import { SandboxError } from '../../src/errors.js';
import { hasProgram, listTree, makeScratch, removeScratch, writeSampleTree } from './fixtures.js';

const zlibHasZstd = 'createZstdCompress' in (await import('node:zlib'));

afterEach(removeScratch);

const cases: { format: ArchiveFormat; codec: Bzip2Codec; skip: string | false }[] = [
  { format: 'tar', codec: 'auto', skip: false },
  { format: 'tar.gz', codec: 'auto', skip: false },
  { format: 'tar.bz2', codec: 'javascript', skip: false },
  { format: 'tar.bz2', codec: 'program', skip: hasProgram('bzip2') ? false : 'no bzip2 program' },
  { format: 'tar.zst', codec: 'auto', skip: zlibHasZstd ? false : 'node:zlib has no zstd' },
];

describe('packSandbox and unpackSandbox', () => {
  for (const { format, codec, skip } of cases) {
    it.skipIf(skip !== false)(`round trip in ${format} (${codec})`, async () => {
      const source = await makeScratch();
      const target = await makeScratch();
      const outFile = join(await makeScratch(), `sandbox.${format}`);
      await writeSampleTree(source);

      const packed = await packSandbox({ sourceDir: source, outFile, format, bzip2Codec: codec });
      const unpacked = await unpackSandbox({
        archive: outFile,
        targetDir: target,
        bzip2Codec: codec,
      });

      expect(packed.format).toBe(format);
      expect(packed.size).toBe((await stat(outFile)).size);
      expect(packed.sha256).toBe(await sha256File(outFile));
      expect(await listTree(target)).toEqual(await listTree(source));
      expect([...unpacked.members].sort()).toEqual(await listTree(source));
      expect(unpacked.bytes).toBe(8 + 3_000_000 + 18 + 3);
      for (const file of ['README.txt', 'data/deep/events.bin', 'data/größe mit leer.txt']) {
        // Buffer.equals, because a deep comparison of 3 MB takes seconds.
        const same = (await readFile(join(target, file))).equals(
          await readFile(join(source, file)),
        );
        expect(same, file).toBe(true);
      }
      expect((await stat(join(target, 'run.sh'))).mode & 0o777).toBe(0o755);
      expect(await readlink(join(target, 'data', 'readme-link'))).toBe('../README.txt');
    });
  }

  it('writes sorted member names', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const outFile = join(await makeScratch(), 'sandbox.tar');
    await packSandbox({ sourceDir: source, outFile, format: 'tar' });

    const listed = execFileSync('tar', ['-tf', outFile], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((name) => name.replace(/\/$/, ''));
    expect(listed).toEqual([...listed].sort());
    expect(listed[0]).toBe('README.txt');
  });

  it('gives identical bytes twice', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const scratch = await makeScratch();
    const first = await packSandbox({
      sourceDir: source,
      outFile: join(scratch, 'a.tar.gz'),
      format: 'tar.gz',
    });
    const second = await packSandbox({
      sourceDir: source,
      outFile: join(scratch, 'b.tar.gz'),
      format: 'tar.gz',
    });
    expect(second.sha256).toBe(first.sha256);
  });

  it('packs only the members given', async () => {
    const source = await makeScratch();
    const target = await makeScratch();
    await writeSampleTree(source);
    const outFile = join(await makeScratch(), 'out.tar');
    await packSandbox({
      sourceDir: source,
      outFile,
      format: 'tar',
      members: ['data/deep', 'run.sh'],
    });

    const { members } = await unpackSandbox({ archive: outFile, targetDir: target });
    expect(members).toEqual(['data/deep', 'data/deep/events.bin', 'run.sh']);
  });

  it('rejects a missing member and leaves no file', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const outFile = join(await makeScratch(), 'out.tar.gz');
    const packing = packSandbox({ sourceDir: source, outFile, members: ['nope.txt'] });

    await expect(packing).rejects.toBeInstanceOf(SandboxError);
    await expect(packing).rejects.toMatchObject({ code: 'SANDBOX_MEMBER_NOT_FOUND' });
    await expect(access(outFile)).rejects.toThrow();
    await expect(access(`${outFile}.part`)).rejects.toThrow();
  });

  it('rejects a member outside the source', async () => {
    const source = await makeScratch();
    const outFile = join(await makeScratch(), 'out.tar');
    const packing = packSandbox({ sourceDir: source, outFile, members: ['../etc'] });
    await expect(packing).rejects.toMatchObject({ code: 'SANDBOX_UNSAFE_MEMBER' });
  });

  it('round trip of an empty folder', async () => {
    const source = await makeScratch();
    const target = await makeScratch();
    const outFile = join(await makeScratch(), 'empty.tar.gz');
    await packSandbox({ sourceDir: source, outFile, format: 'tar.gz' });

    const result = await unpackSandbox({ archive: outFile, targetDir: target });
    expect(result.members).toEqual([]);
    expect(result.bytes).toBe(0);
  });

  it('stores a symbolic link, not its target', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const target = await makeScratch();
    const outFile = join(await makeScratch(), 'out.tar');
    await packSandbox({ sourceDir: source, outFile, format: 'tar', members: ['data/readme-link'] });

    await unpackSandbox({ archive: outFile, targetDir: target });
    expect((await lstat(join(target, 'data', 'readme-link'))).isSymbolicLink()).toBe(true);
  });

  it('prefers zstd only where zlib has it', () => {
    expect(preferredFormat()).toBe(zlibHasZstd ? 'tar.zst' : 'tar.bz2');
  });
});

describe('sha256File', () => {
  it('matches sha256sum', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const file = join(source, 'data', 'deep', 'events.bin');
    const expected = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    expect(await sha256File(file)).toBe(expected);
  });

  it('matches sha256sum on an archive', async () => {
    const source = await makeScratch();
    await writeSampleTree(source);
    const outFile = join(await makeScratch(), 'out.tar.bz2');
    const packed = await packSandbox({ sourceDir: source, outFile, format: 'tar.bz2' });
    const expected = execFileSync('sha256sum', [outFile], { encoding: 'utf8' }).split(' ')[0];
    expect(packed.sha256).toBe(expected);
  });
});
