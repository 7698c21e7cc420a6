import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globOutputs, segmentToRegex } from '../../src/cwl/glob.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cwl-glob-'));
  await mkdir(path.join(root, 'sub/deep'), { recursive: true });
  for (const name of ['a.txt', 'b.txt', '.hidden.txt', 'c.dat', 'sub/d.txt', 'sub/deep/e.txt']) {
    await writeFile(path.join(root, name), name);
  }
  await symlink(path.join(root, 'missing'), path.join(root, 'broken.txt'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const relative = (matches: string[]): string[] => matches.map((m) => path.relative(root, m));

describe('globOutputs', () => {
  it('matches one segment and sorts', async () => {
    expect(relative(await globOutputs(root, '*.txt'))).toEqual(['a.txt', 'b.txt']);
  });

  it('matches hidden files only explicitly', async () => {
    expect(relative(await globOutputs(root, '.*.txt'))).toEqual(['.hidden.txt']);
  });

  it('crosses folders with **', async () => {
    expect(relative(await globOutputs(root, '**/*.txt'))).toEqual([
      'a.txt',
      'b.txt',
      'sub/d.txt',
      'sub/deep/e.txt',
    ]);
  });

  it('returns the folder itself for .', async () => {
    expect(await globOutputs(root, '.')).toEqual([root]);
  });

  it('accepts an absolute path inside', async () => {
    expect(relative(await globOutputs(root, path.join(root, 'c.dat')))).toEqual(['c.dat']);
  });

  it('rejects a parent folder', async () => {
    await expect(globOutputs(root, '../x')).rejects.toThrow(/outside the output folder/);
  });

  it('rejects an absolute path outside', async () => {
    await expect(globOutputs(root, '/etc/passwd')).rejects.toThrow(/outside the output folder/);
  });
});

describe('segmentToRegex', () => {
  it('handles character classes', () => {
    const regex = segmentToRegex('file[0-9].txt');
    expect(regex.test('file1.txt')).toBe(true);
    expect(regex.test('filex.txt')).toBe(false);
  });

  it('handles negated classes', () => {
    expect(segmentToRegex('[!a]*').test('abc')).toBe(false);
    expect(segmentToRegex('[!a]*').test('bcd')).toBe(true);
  });

  it('escapes regular expression characters', () => {
    expect(segmentToRegex('a+b(1).txt').test('a+b(1).txt')).toBe(true);
  });
});
