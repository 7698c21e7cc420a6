import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_MEMBERS, unpackSandbox } from '../../src/archive/index.js';
import { buildTar, makeScratch, removeScratch, type RawMember } from './fixtures.js';

afterEach(removeScratch);

async function writeArchive(members: RawMember[]): Promise<{ archive: string; targetDir: string }> {
  const scratch = await makeScratch();
  const archive = join(scratch, 'sandbox.tar.gz');
  await writeFile(archive, gzipSync(buildTar(members)));
  return { archive, targetDir: join(scratch, 'target') };
}

const thousandBytes: RawMember[] = [
  { path: 'a.bin', type: 'File', body: Buffer.alloc(600) },
  { path: 'b.bin', type: 'File', body: Buffer.alloc(400) },
];

describe('unpackSandbox limits', () => {
  it('documents its defaults', () => {
    expect(DEFAULT_MAX_BYTES).toBe(2 * 1024 * 1024 * 1024);
    expect(DEFAULT_MAX_MEMBERS).toBe(100_000);
  });

  it('accepts content exactly at maxBytes', async () => {
    const { archive, targetDir } = await writeArchive(thousandBytes);
    const result = await unpackSandbox({ archive, targetDir, maxBytes: 1000 });
    expect(result.bytes).toBe(1000);
  });

  it('stops one byte past maxBytes', async () => {
    const { archive, targetDir } = await writeArchive(thousandBytes);
    const result = unpackSandbox({ archive, targetDir, maxBytes: 999 });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_TOO_LARGE' });
    await expect(result).rejects.toThrow('"b.bin"');
  });

  it('accepts exactly maxMembers', async () => {
    const { archive, targetDir } = await writeArchive(thousandBytes);
    const result = await unpackSandbox({ archive, targetDir, maxMembers: 2 });
    expect(result.members).toEqual(['a.bin', 'b.bin']);
  });

  it('stops past maxMembers', async () => {
    const { archive, targetDir } = await writeArchive([
      ...thousandBytes,
      { path: 'c.txt', type: 'File', body: 'c' },
    ]);
    const result = unpackSandbox({ archive, targetDir, maxMembers: 2 });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_TOO_MANY_MEMBERS' });
    await expect(result).rejects.toThrow('"c.txt"');
  });

  it('counts folders and links as members', async () => {
    const { archive, targetDir } = await writeArchive([
      { path: 'dir', type: 'Directory' },
      { path: 'link', type: 'SymbolicLink', linkpath: 'dir' },
    ]);
    const result = unpackSandbox({ archive, targetDir, maxMembers: 1 });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_TOO_MANY_MEMBERS' });
  });

  it('stops a stream of endless padding', async () => {
    const scratch = await makeScratch();
    const archive = join(scratch, 'bomb.tar.gz');
    // 64 MiB of zero blocks compress to about 64 KiB.
    await writeFile(archive, gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    const result = unpackSandbox({
      archive,
      targetDir: join(scratch, 't'),
      maxBytes: 1024,
      maxMembers: 10,
    });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_TOO_LARGE' });
  });

  it('rejects a negative limit', async () => {
    const { archive, targetDir } = await writeArchive(thousandBytes);
    const result = unpackSandbox({ archive, targetDir, maxBytes: -1 });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_INVALID_OPTION' });
  });
});
