import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as asyncFs from '../../src/cwl/async-fs.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'async-fs-'));
const file = path.join(dir, 'data.txt');
writeFileSync(file, 'hello\n');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the same checks in both modes; the blocking mode is switched on for the second. */
describe.each(['thread pool', 'blocking'])('async-fs, %s', (mode) => {
  it('switches mode', () => {
    if (mode === 'blocking') asyncFs.useBlockingCalls();
  });

  it('reads and stats a file', async () => {
    expect(await asyncFs.readFile(file, 'utf8')).toBe('hello\n');
    expect((await asyncFs.stat(file)).size).toBe(6);
    expect((await asyncFs.stat(file, { bigint: true })).size).toBe(6n);
  });

  it('reads part of a file by descriptor', async () => {
    const fd = await asyncFs.open(file, 'r');
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await asyncFs.read(fd, buffer, 0, 4, 1);
    await asyncFs.close(fd);
    expect(bytesRead).toBe(4);
    expect(buffer.toString()).toBe('ello');
  });

  it('rejects instead of throwing', async () => {
    const missing = path.join(dir, `missing-${mode}`);
    const pending = asyncFs.stat(missing);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes and removes folders', async () => {
    const tempDir = await asyncFs.mkdtemp(path.join(dir, 'tmp-'));
    await asyncFs.mkdir(path.join(tempDir, 'a', 'b'), { recursive: true });
    expect(await asyncFs.readdir(tempDir)).toEqual(['a']);
    await asyncFs.rm(tempDir, { recursive: true });
    await expect(asyncFs.lstat(tempDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
