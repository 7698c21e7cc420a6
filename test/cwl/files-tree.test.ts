import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChecksum, removeTree } from '../../src/cwl/files.js';
import { relocateOutputs } from '../../src/cwl/relocate.js';
import { Scratch } from './helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('ctao-files-tree-');
});

afterAll(async () => {
  await scratch.remove();
});

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('removeTree', () => {
  it('removes a tree, not link targets', async () => {
    const linkTarget = await scratch.folder('tree-kept');
    await writeFile(path.join(linkTarget, 'data.txt'), 'keep me\n');
    const root = await scratch.folder('tree-root');
    await mkdir(path.join(root, 'a/b/c'), { recursive: true });
    await writeFile(path.join(root, 'a/one.txt'), '1');
    await writeFile(path.join(root, 'a/b/c/two.txt'), '2');
    await symlink(linkTarget, path.join(root, 'a/link-to-folder'));
    await symlink(path.join(linkTarget, 'data.txt'), path.join(root, 'link-to-file'));

    await removeTree(root);

    expect(await exists(root)).toBe(false);
    expect(await readFile(path.join(linkTarget, 'data.txt'), 'utf8')).toBe('keep me\n');
  });

  it('accepts a folder that does not exist', async () => {
    await expect(removeTree(path.join(scratch.dir, 'never-made'))).resolves.toBeUndefined();
  });

  it('removes an unreadable folder', async () => {
    const root = await scratch.folder('tree-locked');
    await mkdir(path.join(root, 'locked'));
    await writeFile(path.join(root, 'locked/inside.txt'), 'x');
    // Without read permission readdir fails; fs.rm then takes over. As root, it does not fail.
    await chmod(path.join(root, 'locked'), 0o300);

    await removeTree(root);

    expect(await exists(root)).toBe(false);
  });
});

describe('computeChecksum', () => {
  it('hashes small and large files', async () => {
    const folder = await scratch.folder('checksums');
    const small = path.join(folder, 'small.txt');
    await writeFile(small, 'hello\n');
    const large = path.join(folder, 'large.bin');
    await writeFile(large, Buffer.alloc(200 * 1024, 'hello\n'));

    expect(await computeChecksum(small)).toBe('sha1$f572d396fae9206628714fb2ce00f72e94f2258f');
    const expected = createHash('sha1')
      .update(Buffer.alloc(200 * 1024, 'hello\n'))
      .digest('hex');
    expect(await computeChecksum(large)).toBe(`sha1$${expected}`);
  });
});

describe('relocateOutputs over earlier outputs', () => {
  function fileOutput(file: string, cls = 'File'): Record<string, unknown> {
    return { class: cls, path: file, location: `file://${file}`, basename: path.basename(file) };
  }

  it('replaces earlier outputs', async () => {
    const jobDir = await scratch.folder('again/job');
    await writeFile(path.join(jobDir, 'result.txt'), 'new result\n');
    await mkdir(path.join(jobDir, 'plots'));
    await writeFile(path.join(jobDir, 'plots/new.png'), 'new plot');
    const outdir = await scratch.folder('again/out');
    await writeFile(path.join(outdir, 'result.txt'), 'old result\n');
    await mkdir(path.join(outdir, 'plots'));
    await writeFile(path.join(outdir, 'plots/old.png'), 'old plot');

    await relocateOutputs(
      {
        result: fileOutput(path.join(jobDir, 'result.txt')),
        plots: fileOutput(path.join(jobDir, 'plots'), 'Directory'),
      },
      jobDir,
      outdir,
    );

    expect(await readFile(path.join(outdir, 'result.txt'), 'utf8')).toBe('new result\n');
    expect(await readdir(path.join(outdir, 'plots'))).toEqual(['new.png']);
  });
});

describe('removeTree past its blocking budget', () => {
  it('removes every entry', async () => {
    const root = await scratch.folder('tree-large');
    for (let folder = 0; folder < 12; folder += 1) {
      const sub = path.join(root, `part-${folder}`);
      await mkdir(sub);
      await Promise.all(
        Array.from({ length: 60 }, (_, file) => writeFile(path.join(sub, `f${file}`), '')),
      );
    }

    await removeTree(root);

    expect(await exists(root)).toBe(false);
  });
});
