import { execFileSync } from 'node:child_process';
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { unpackSandbox } from '../../src/archive/index.js';
import { SandboxError } from '../../src/errors.js';
import { buildTar, hasProgram, makeScratch, removeScratch, type RawMember } from './fixtures.js';

afterEach(removeScratch);

/**
 * Writes `members` as a tar file and unpacks it into `<scratch>/target`. The scratch folder
 * is returned too, so a test can check that nothing appeared beside the target.
 */
async function unpackHostile(members: RawMember[], extension = 'tar') {
  const scratch = await makeScratch();
  const archive = join(scratch, `hostile.${extension}`);
  const tar = buildTar(members);
  await writeFile(archive, extension === 'tar.gz' ? gzipSync(tar) : tar);
  const targetDir = join(scratch, 'target');
  const result = unpackSandbox({ archive, targetDir });
  return { scratch, targetDir, result };
}

const file = (path: string, body = 'x'): RawMember => ({ path, type: 'File', body });

const unsafeCases: { name: string; members: RawMember[]; member: string }[] = [
  { name: 'absolute path', members: [file('/escape.txt')], member: '/escape.txt' },
  { name: 'leading ..', members: [file('../escape.txt')], member: '../escape.txt' },
  { name: 'inner ..', members: [file('a/../../escape.txt')], member: 'a/../../escape.txt' },
  {
    name: 'symlink to absolute path',
    members: [{ path: 'link', type: 'SymbolicLink', linkpath: '/etc' }],
    member: 'link',
  },
  {
    name: 'symlink climbing out',
    members: [{ path: 'sub/link', type: 'SymbolicLink', linkpath: '../../escape.txt' }],
    member: 'sub/link',
  },
  {
    name: 'hard link climbing out',
    members: [{ path: 'hard', type: 'Link', linkpath: '../escape.txt' }],
    member: 'hard',
  },
  {
    name: 'hard link to absolute path',
    members: [{ path: 'hard', type: 'Link', linkpath: '/etc/passwd' }],
    member: 'hard',
  },
  {
    name: 'write through a symlink',
    members: [{ path: 'dir', type: 'SymbolicLink', linkpath: '.' }, file('dir/escape.txt')],
    member: 'dir/escape.txt',
  },
  {
    name: 'symlink escaping through a later symlink',
    members: [
      { path: 'late', type: 'SymbolicLink', linkpath: 'hop/../escape.txt' },
      { path: 'hop', type: 'SymbolicLink', linkpath: '.' },
    ],
    member: 'late',
  },
  {
    name: 'hard link through a symlink',
    members: [
      file('real/secret.txt'),
      { path: 'alias', type: 'SymbolicLink', linkpath: 'real' },
      { path: 'hard', type: 'Link', linkpath: 'alias/secret.txt' },
    ],
    member: 'hard',
  },
  { name: 'character device', members: [{ path: 'tty', type: 'CharacterDevice' }], member: 'tty' },
  { name: 'block device', members: [{ path: 'disk', type: 'BlockDevice' }], member: 'disk' },
  { name: 'FIFO', members: [{ path: 'pipe', type: 'FIFO' }], member: 'pipe' },
];

describe('unpackSandbox rejects unsafe members', () => {
  for (const { name, members, member } of unsafeCases) {
    it(name, async () => {
      const { scratch, result } = await unpackHostile(members);

      await expect(result).rejects.toBeInstanceOf(SandboxError);
      await expect(result).rejects.toMatchObject({ code: 'SANDBOX_UNSAFE_MEMBER' });
      await expect(result).rejects.toThrow(`"${member}"`);
      expect(await readdir(scratch)).toEqual(['hostile.tar', 'target']);
    });
  }

  it('rejects inside a gzip archive too', async () => {
    const { result } = await unpackHostile([file('../escape.txt')], 'tar.gz');
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_UNSAFE_MEMBER' });
  });

  it('leaves a file outside unchanged', async () => {
    const scratch = await makeScratch();
    const outside = join(scratch, 'outside.txt');
    await writeFile(outside, 'original');
    const archive = join(scratch, 'hostile.tar');
    await writeFile(
      archive,
      buildTar([
        { path: 'up', type: 'SymbolicLink', linkpath: '.' },
        file('up/../outside.txt', 'overwritten'),
      ]),
    );

    await expect(unpackSandbox({ archive, targetDir: join(scratch, 't') })).rejects.toMatchObject({
      code: 'SANDBOX_UNSAFE_MEMBER',
    });
    expect(execFileSync('cat', [outside], { encoding: 'utf8' })).toBe('original');
  });

  it('accepts links that stay inside', async () => {
    const { targetDir, result } = await unpackHostile([
      file('lib/data.txt', 'data'),
      { path: 'bin/data', type: 'SymbolicLink', linkpath: '../lib/data.txt' },
      { path: 'copy.txt', type: 'Link', linkpath: 'lib/data.txt' },
      { path: 'here', type: 'SymbolicLink', linkpath: '.' },
    ]);

    await expect(result).resolves.toMatchObject({ bytes: 4 });
    expect(execFileSync('cat', [join(targetDir, 'bin', 'data')], { encoding: 'utf8' })).toBe(
      'data',
    );
    expect(execFileSync('cat', [join(targetDir, 'copy.txt')], { encoding: 'utf8' })).toBe('data');
  });

  it('rejects a file over a folder', async () => {
    const { result } = await unpackHostile([
      { path: 'name', type: 'Directory' },
      file('name', 'x'),
    ]);
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_MEMBER_CONFLICT' });
  });

  it('replaces an earlier symlink with a file', async () => {
    const { targetDir, result } = await unpackHostile([
      { path: 'name', type: 'SymbolicLink', linkpath: 'other' },
      file('name', 'final'),
    ]);
    await expect(result).resolves.toMatchObject({ members: ['name', 'name'] });
    expect(execFileSync('cat', [join(targetDir, 'name')], { encoding: 'utf8' })).toBe('final');
  });

  it('rejects a sparse file as unsupported', async () => {
    const { result } = await unpackHostile([{ path: 'sparse', type: 'SparseFile', body: 'x' }]);
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_UNSUPPORTED_MEMBER' });
    await expect(result).rejects.toThrow('"sparse"');
  });

  it('drops set-user-ID bits', async () => {
    const { targetDir, result } = await unpackHostile([
      { path: 'tool', type: 'File', body: 'x', mode: 0o4755 },
    ]);
    await result;
    const mode = execFileSync('stat', ['-c', '%a', join(targetDir, 'tool')], { encoding: 'utf8' });
    expect(mode.trim()).toBe('755');
  });
});

describe('unpackSandbox rejects corrupt archives', () => {
  it('rejects bytes that are not tar', async () => {
    const scratch = await makeScratch();
    const archive = join(scratch, 'noise.tar');
    await writeFile(archive, Buffer.from('this is not a tar archive\n'.repeat(100)));
    const result = unpackSandbox({ archive, targetDir: join(scratch, 't') });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_CORRUPT_ARCHIVE' });
  });

  it('rejects a truncated gzip archive', async () => {
    const scratch = await makeScratch();
    const archive = join(scratch, 'cut.tar.gz');
    const whole = gzipSync(buildTar([file('a.txt', 'y'.repeat(100_000))]));
    await writeFile(archive, whole.subarray(0, whole.length - 20));
    const result = unpackSandbox({ archive, targetDir: join(scratch, 't') });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_CORRUPT_ARCHIVE' });
  });

  it('rejects a truncated tar', async () => {
    const scratch = await makeScratch();
    const archive = join(scratch, 'cut.tar');
    const whole = buildTar([file('a.txt', 'y'.repeat(100_000))]);
    await writeFile(archive, whole.subarray(0, 50_000));
    const result = unpackSandbox({ archive, targetDir: join(scratch, 't') });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_CORRUPT_ARCHIVE' });
  });

  for (const codec of ['javascript', 'program'] as const) {
    it.skipIf(!hasProgram('bzip2'))(`rejects damaged bzip2 (${codec})`, async () => {
      const scratch = await makeScratch();
      const archive = join(scratch, 'bad.tar.bz2');
      const whole = execFileSync('bzip2', ['-c'], {
        input: buildTar([file('a.txt', 'z'.repeat(5000))]),
      });
      whole[whole.length - 30] = (whole[whole.length - 30] ?? 0) ^ 0xff;
      await writeFile(archive, whole);
      const result = unpackSandbox({ archive, targetDir: join(scratch, 't'), bzip2Codec: codec });
      await expect(result).rejects.toMatchObject({ code: 'SANDBOX_CORRUPT_ARCHIVE' });
    });
  }

  it('rejects a missing archive', async () => {
    const scratch = await makeScratch();
    const result = unpackSandbox({ archive: join(scratch, 'nope.tar'), targetDir: scratch });
    await expect(result).rejects.toMatchObject({ code: 'SANDBOX_ARCHIVE_UNREADABLE' });
    await expect(access(join(scratch, 'nope.tar'))).rejects.toThrow();
  });
});
