import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutputs } from './compare.js';

// SHA-1 of the six bytes "hello\n" and of the empty file.
const HELLO_SHA1 = 'sha1$f572d396fae9206628714fb2ce00f72e94f2258f';
const EMPTY_SHA1 = 'sha1$da39a3ee5e6b4b0d3255bfef95601890afd80709';

let root: string;
let outTxt: string;
let aboutTxt: string;
let nested: string;
let spaced: string;
let emptyFile: string;
let folder: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'compare-test-'));
  outTxt = path.join(root, 'out.txt');
  aboutTxt = path.join(root, 'about.txt');
  mkdirSync(path.join(root, 'dir'));
  nested = path.join(root, 'dir', 'out.txt');
  spaced = path.join(root, 'with space#1.txt');
  emptyFile = path.join(root, 'dir', 'empty');
  folder = path.join(root, 'dir');
  for (const file of [outTxt, aboutTxt, nested, spaced]) {
    writeFileSync(file, 'hello\n');
  }
  writeFileSync(emptyFile, '');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function fileUri(localPath: string): string {
  return pathToFileURL(localPath).href;
}

function actualFile(localPath: string, extra: Record<string, unknown> = {}) {
  return { class: 'File', location: fileUri(localPath), ...extra };
}

describe('compareOutputs with Any', () => {
  it('matches any value', () => {
    expect(compareOutputs('Any', { deep: [1, 2] }).ok).toBe(true);
  });

  it('matches a null value', () => {
    expect(compareOutputs({ out: 'Any' }, { out: null }).ok).toBe(true);
  });

  it('matches a missing key', () => {
    expect(compareOutputs({ out: 'Any' }, {}).ok).toBe(true);
  });

  it('matches any File location', () => {
    const expected = { f: { class: 'File', location: 'Any' } };
    expect(compareOutputs(expected, { f: actualFile(aboutTxt) }).ok).toBe(true);
  });
});

describe('compareOutputs with null and missing', () => {
  it('accepts a missing key for expected null', () => {
    expect(compareOutputs({ out: null }, {}).ok).toBe(true);
  });

  it('accepts null for expected null', () => {
    expect(compareOutputs({ out: null }, { out: null }).ok).toBe(true);
  });

  it('rejects a value for expected null', () => {
    const result = compareOutputs({ out: null }, { out: 0 });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.out');
  });

  it('rejects a missing key for a value', () => {
    const result = compareOutputs({ out: 'x' }, {});
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.out');
    expect(result.reason).toContain('missing');
  });

  it('rejects null for a value', () => {
    expect(compareOutputs({ out: 0 }, { out: null }).ok).toBe(false);
  });

  it('rejects an empty object for expected null', () => {
    expect(compareOutputs(null, {}).ok).toBe(false);
  });
});

describe('compareOutputs with records', () => {
  it('accepts extra keys that are null', () => {
    expect(compareOutputs({ a: 1 }, { a: 1, b: null }).ok).toBe(true);
  });

  it('rejects extra keys with a value', () => {
    const result = compareOutputs({ a: 1 }, { a: 1, b: 'x' });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.b');
  });

  it('rejects extra keys in nested records', () => {
    const result = compareOutputs({ r: { a: 1 } }, { r: { a: 1, extra: [] } });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.r.extra');
  });

  it('rejects a list where a record is expected', () => {
    expect(compareOutputs({ r: { a: 1 } }, { r: [1] }).ok).toBe(false);
  });

  it('quotes keys that are not identifiers', () => {
    const result = compareOutputs({ 'odd key': 1 }, { 'odd key': 2 });
    expect(result.reason).toContain('$["odd key"]');
  });
});

describe('compareOutputs with File locations', () => {
  it('matches a basename suffix', () => {
    const expected = { f: { class: 'File', location: 'out.txt' } };
    expect(compareOutputs(expected, { f: actualFile(outTxt) }).ok).toBe(true);
  });

  it('rejects a suffix that is not a whole segment', () => {
    const expected = { f: { class: 'File', location: 'out.txt' } };
    const result = compareOutputs(expected, { f: actualFile(path.join(root, 'about.txt')) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.f.location');
  });

  it('matches a multi-segment suffix', () => {
    const expected = { f: { class: 'File', location: 'dir/out.txt' } };
    expect(compareOutputs(expected, { f: actualFile(nested) }).ok).toBe(true);
  });

  it('rejects a multi-segment suffix from another folder', () => {
    const expected = { f: { class: 'File', location: 'dir/out.txt' } };
    expect(compareOutputs(expected, { f: actualFile(outTxt) }).ok).toBe(false);
  });

  it('prefers expected path over location', () => {
    const expected = { f: { class: 'File', path: 'out.txt', location: 'nothing.txt' } };
    expect(compareOutputs(expected, { f: actualFile(outTxt) }).ok).toBe(true);
  });

  it('prefers actual path over location', () => {
    const expected = { f: { class: 'File', location: 'out.txt' } };
    const actual = { class: 'File', path: outTxt, location: fileUri(aboutTxt) };
    expect(compareOutputs(expected, { f: actual }).ok).toBe(true);
  });

  it('accepts an equal string without slashes', () => {
    const previous = process.cwd();
    process.chdir(root);
    try {
      const expected = { f: { class: 'File', location: 'out.txt' } };
      expect(compareOutputs(expected, { f: { class: 'File', location: 'out.txt' } }).ok).toBe(true);
    } finally {
      process.chdir(previous);
    }
  });

  it('decodes file URIs for the disk check', () => {
    const expected = { f: { class: 'File', location: 'Any' } };
    const uri = fileUri(spaced);
    expect(uri).toContain('%20');
    expect(compareOutputs(expected, { f: { class: 'File', location: uri } }).ok).toBe(true);
  });

  it('keeps the suffix test on the encoded string', () => {
    const expected = { f: { class: 'File', location: 'with space#1.txt' } };
    expect(compareOutputs(expected, { f: actualFile(spaced) }).ok).toBe(false);
  });

  it('rejects a location that does not exist', () => {
    const expected = { f: { class: 'File', location: 'gone.txt' } };
    const result = compareOutputs(expected, { f: actualFile(path.join(root, 'gone.txt')) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('does not exist');
  });

  it('rejects a File location that is a folder', () => {
    const expected = { f: { class: 'File', location: 'dir' } };
    expect(compareOutputs(expected, { f: actualFile(folder) }).ok).toBe(false);
  });

  it('rejects an actual File without location', () => {
    const expected = { f: { class: 'File', location: 'out.txt' } };
    expect(compareOutputs(expected, { f: { class: 'File' } }).ok).toBe(false);
  });
});

describe('compareOutputs with File checksum and size', () => {
  it('accepts checksum and size of the bytes on disk', () => {
    const expected = { f: { class: 'File', checksum: HELLO_SHA1, size: 6 } };
    expect(compareOutputs(expected, { f: actualFile(outTxt) }).ok).toBe(true);
  });

  it('rejects an expected checksum that differs from disk', () => {
    const expected = { f: { class: 'File', checksum: EMPTY_SHA1 } };
    const result = compareOutputs(expected, { f: actualFile(outTxt) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.f.checksum');
  });

  it('rejects an expected size that differs from disk', () => {
    const expected = { f: { class: 'File', size: 7 } };
    const result = compareOutputs(expected, { f: actualFile(outTxt) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.f.size');
  });

  it('rejects a declared checksum that differs from disk', () => {
    const expected = { f: { class: 'File' } };
    const actual = actualFile(outTxt, { checksum: EMPTY_SHA1 });
    const result = compareOutputs(expected, { f: actual });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('declared');
  });

  it('rejects a declared size that differs from disk', () => {
    const expected = { f: { class: 'File', checksum: HELLO_SHA1 } };
    const actual = actualFile(outTxt, { checksum: HELLO_SHA1, size: 0 });
    expect(compareOutputs(expected, { f: actual }).ok).toBe(false);
  });

  it('rejects matching fields for a missing file', () => {
    const expected = { f: { class: 'File', checksum: EMPTY_SHA1, size: 0 } };
    const actual = actualFile(path.join(root, 'never-written'), { checksum: EMPTY_SHA1, size: 0 });
    expect(compareOutputs(expected, { f: actual }).ok).toBe(false);
  });

  it('accepts the empty file checksum', () => {
    const expected = { f: { class: 'File', checksum: EMPTY_SHA1, size: 0 } };
    expect(compareOutputs(expected, { f: actualFile(emptyFile) }).ok).toBe(true);
  });

  it('ignores extra keys in actual File', () => {
    const expected = { f: { class: 'File', basename: 'out.txt' } };
    const actual = actualFile(outTxt, { basename: 'out.txt', nameroot: 'out', format: 'x' });
    expect(compareOutputs(expected, { f: actual }).ok).toBe(true);
  });

  it('rejects a different basename', () => {
    const expected = { f: { class: 'File', basename: 'other.txt' } };
    const result = compareOutputs(expected, { f: actualFile(outTxt, { basename: 'out.txt' }) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.f.basename');
  });

  it('compares secondaryFiles in order', () => {
    const expected = {
      class: 'File',
      secondaryFiles: [
        { class: 'File', location: 'out.txt' },
        { class: 'File', location: 'about.txt' },
      ],
    };
    const ordered = actualFile(outTxt, {
      secondaryFiles: [actualFile(outTxt), actualFile(aboutTxt)],
    });
    const reversed = actualFile(outTxt, {
      secondaryFiles: [actualFile(aboutTxt), actualFile(outTxt)],
    });
    expect(compareOutputs(expected, ordered).ok).toBe(true);
    expect(compareOutputs(expected, reversed).ok).toBe(false);
  });

  it('compares contents with the file text', () => {
    expect(compareOutputs({ class: 'File', contents: 'hello\n' }, actualFile(outTxt)).ok).toBe(
      true,
    );
    expect(compareOutputs({ class: 'File', contents: 'bye\n' }, actualFile(outTxt)).ok).toBe(false);
  });
});

describe('compareOutputs with Directory', () => {
  function actualDirectory(listing: unknown[] | undefined) {
    const directory: Record<string, unknown> = {
      class: 'Directory',
      location: `${fileUri(folder)}/`,
      basename: 'dir',
    };
    if (listing !== undefined) {
      directory.listing = listing;
    }
    return directory;
  }

  const listing = () => [actualFile(emptyFile), actualFile(nested)];

  it('matches listing entries in any order', () => {
    const expected = {
      class: 'Directory',
      location: 'dir',
      listing: [
        { class: 'File', location: 'out.txt', checksum: HELLO_SHA1 },
        { class: 'File', location: 'empty', size: 0 },
      ],
    };
    expect(compareOutputs(expected, actualDirectory(listing())).ok).toBe(true);
  });

  it('accepts extra actual entries', () => {
    const expected = { class: 'Directory', listing: [{ class: 'File', location: 'empty' }] };
    expect(compareOutputs(expected, actualDirectory(listing())).ok).toBe(true);
  });

  it('lets one entry satisfy two expected', () => {
    const entry = { class: 'File', location: 'empty' };
    const expected = { class: 'Directory', listing: [entry, entry] };
    expect(compareOutputs(expected, actualDirectory([actualFile(emptyFile)])).ok).toBe(true);
  });

  it('rejects an expected entry with no match', () => {
    const expected = { class: 'Directory', listing: [{ class: 'File', location: 'missing' }] };
    const result = compareOutputs(expected, actualDirectory(listing()));
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.listing');
  });

  it('fails when expected has no listing', () => {
    const result = compareOutputs({ class: 'Directory' }, actualDirectory(listing()));
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('no listing');
  });

  it('fails when actual has no listing', () => {
    const expected = { class: 'Directory', listing: [] };
    expect(compareOutputs(expected, actualDirectory(undefined)).ok).toBe(false);
  });

  it('rejects an actual File', () => {
    const expected = { class: 'Directory', listing: [] };
    expect(compareOutputs(expected, actualFile(outTxt, { listing: [] })).ok).toBe(false);
  });

  it('rejects a folder that does not exist', () => {
    const expected = { class: 'Directory', location: 'nowhere', listing: [] };
    const actual = {
      class: 'Directory',
      location: fileUri(path.join(root, 'nowhere')),
      listing: [],
    };
    expect(compareOutputs(expected, actual).ok).toBe(false);
  });

  it('rejects a different basename', () => {
    const expected = { class: 'Directory', basename: 'other', listing: [] };
    expect(compareOutputs(expected, actualDirectory([])).ok).toBe(false);
  });
});

describe('compareOutputs with lists', () => {
  it('accepts equal lists', () => {
    expect(compareOutputs([1, 'a', null], [1, 'a', null]).ok).toBe(true);
  });

  it('rejects another order', () => {
    const result = compareOutputs({ l: [1, 2] }, { l: [2, 1] });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('$.l[0]');
  });

  it('rejects another length', () => {
    const result = compareOutputs([1, 2], [1, 2, 3]);
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('length');
  });

  it('rejects a scalar where a list is expected', () => {
    expect(compareOutputs([1], 1).ok).toBe(false);
  });
});

describe('compareOutputs with scalars', () => {
  it.each([
    ['1 and 1.0', 1, 1.0],
    ['true and 1', true, 1],
    ['false and 0', false, 0],
    ['1 and true', 1, true],
    ['equal strings', 'a b', 'a b'],
  ])('accepts %s', (_name, expected, actual) => {
    expect(compareOutputs({ v: expected }, { v: actual }).ok).toBe(true);
  });

  it.each([
    ['1 and 1.5', 1, 1.5],
    ['true and 2', true, 2],
    ['string and number', '1', 1],
    ['strings of another case', 'abc', 'ABC'],
    ['strings with a trailing space', 'abc', 'abc '],
    ['false and null', false, null],
    ['0 and an empty string', 0, ''],
  ])('rejects %s', (_name, expected, actual) => {
    expect(compareOutputs({ v: expected }, { v: actual }).ok).toBe(false);
  });
});
