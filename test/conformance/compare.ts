/**
 * Scoring of one conformance test's output object by the rules of cwltest, the CWL project's
 * test runner. `"Any"` matches everything and records reject extra non-null keys. File and
 * Directory objects are checked against the files on disk, lists compare in order, and scalars
 * compare with Python's `==`.
 *
 * This module must stay free of process spawning, because an end-to-end test of the pilot
 * imports it as well.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

/** Verdict of {@link compareOutputs}, with a `reason` when `ok` is false. */
export interface CompareResult {
  ok: boolean;
  /** What did not match, starting with the JSONPath of the value, such as `$.out.listing[0]`. */
  reason?: string;
}

/** Mismatch raised inside the recursive comparison and turned into a {@link CompareResult}. */
class CompareMismatch extends Error {
  constructor(
    readonly at: string,
    detail: string,
  ) {
    super(`${at}: ${detail}`);
  }
}

type JsonObject = Record<string, unknown>;

/** File keys that the location, contents and checksum steps handle instead of the generic step. */
const FILE_KEYS_CHECKED_SEPARATELY = new Set([
  'path',
  'location',
  'listing',
  'contents',
  'checksum',
  'size',
]);

/**
 * Compares a test's expected output object with the output a runner printed.
 *
 * File and Directory values are checked on disk: the file must exist, and its SHA-1 and size
 * must equal both the declared and the expected `checksum` and `size`. Relative paths in
 * `actual` resolve against the current working directory. Any error while comparing, such as an
 * unreadable file, is a mismatch.
 */
export function compareOutputs(expected: unknown, actual: unknown): CompareResult {
  try {
    compareValue(expected, actual, '$');
    return { ok: true };
  } catch (error) {
    if (error instanceof CompareMismatch) {
      return { ok: false, reason: error.message };
    }
    return { ok: false, reason: `$: comparison failed: ${(error as Error).message}` };
  }
}

function compareValue(expected: unknown, actual: unknown, at: string): void {
  if (expected === 'Any') {
    return;
  }
  if (expected !== null && expected !== undefined && (actual === null || actual === undefined)) {
    throw new CompareMismatch(at, `expected ${show(expected)}, got ${show(actual)}`);
  }

  if (isObject(expected)) {
    if (!isObject(actual)) {
      throw new CompareMismatch(at, `expected an object, got ${show(actual)}`);
    }
    if (expected.class === 'File') {
      compareFile(expected, actual, at);
    } else if (expected.class === 'Directory') {
      compareDirectory(expected, actual, at);
    } else {
      compareRecord(expected, actual, at);
    }
    return;
  }

  if (Array.isArray(expected)) {
    compareList(expected, actual, at);
    return;
  }

  if (!pythonScalarEquals(expected, actual)) {
    throw new CompareMismatch(at, `expected ${show(expected)}, got ${show(actual)}`);
  }
}

function compareList(expected: unknown[], actual: unknown, at: string): void {
  if (!Array.isArray(actual)) {
    throw new CompareMismatch(at, `expected a list, got ${show(actual)}`);
  }
  if (expected.length !== actual.length) {
    throw new CompareMismatch(
      at,
      `expected a list of length ${expected.length}, got length ${actual.length}`,
    );
  }
  expected.forEach((item, index) => compareValue(item, actual[index], `${at}[${index}]`));
}

function compareRecord(expected: JsonObject, actual: JsonObject, at: string): void {
  for (const [key, value] of Object.entries(expected)) {
    compareValue(value, actual[key], childPath(at, key));
  }
  for (const [key, value] of Object.entries(actual)) {
    if (!(key in expected) && value !== null) {
      throw new CompareMismatch(
        childPath(at, key),
        `unexpected key with value ${show(value)}, but extra record keys must be null`,
      );
    }
  }
}

function compareFile(expected: JsonObject, actual: JsonObject, at: string): void {
  compareLocation(expected, actual, at);
  compareContents(expected, actual, at);
  compareChecksumAndSize(expected, actual, at);
  compareOtherKeys(expected, actual, at);
}

function compareDirectory(expected: JsonObject, actual: JsonObject, at: string): void {
  if (actual.class !== 'Directory') {
    throw new CompareMismatch(at, `expected class Directory, got ${show(actual.class)}`);
  }
  if (!Array.isArray(expected.listing)) {
    // cwltest indexes the expected listing unconditionally, so this always fails there too.
    throw new CompareMismatch(at, 'expected Directory has no listing, so it can never match');
  }
  if (!Array.isArray(actual.listing)) {
    throw new CompareMismatch(`${at}.listing`, `missing in actual Directory`);
  }

  const actualListing = actual.listing;
  expected.listing.forEach((expectedEntry, index) => {
    const found = actualListing.some((entry) => compareOutputs(expectedEntry, entry).ok);
    if (!found) {
      throw new CompareMismatch(
        `${at}.listing`,
        `no entry matches expected entry [${index}] ${show(expectedEntry)}`,
      );
    }
  });

  compareLocation(expected, actual, at);
  compareOtherKeys(expected, actual, at);
}

/**
 * Checks that the object exists on disk and that its path or location ends with the expected
 * one, as a plain string suffix after a `/` (no URL decoding and no basename extraction).
 */
function compareLocation(expected: JsonObject, actual: JsonObject, at: string): void {
  let expectedKey: 'path' | 'location';
  if ('path' in expected) {
    expectedKey = 'path';
  } else if ('location' in expected) {
    expectedKey = 'location';
  } else {
    return;
  }

  const actualKey = 'path' in actual ? 'path' : 'location';
  const rawValue = actual[actualKey];
  if (typeof rawValue !== 'string') {
    throw new CompareMismatch(at, `actual ${actualKey} is missing or not a string`);
  }

  const isDirectory = actual.class === 'Directory';
  const actualValue = isDirectory ? rawValue.replace(/\/+$/, '') : rawValue;
  const localPath = localPathOf(actualValue);
  if (!existsAs(localPath, isDirectory ? 'directory' : 'file')) {
    throw new CompareMismatch(at, `${actualValue} does not exist`);
  }

  const expectedValue = expected[expectedKey];
  if (expectedValue === 'Any') {
    return;
  }
  const matches =
    typeof expectedValue === 'string' &&
    (actualValue.endsWith(`/${expectedValue}`) ||
      (!actualValue.includes('/') && actualValue === expectedValue));
  if (!matches) {
    throw new CompareMismatch(
      `${at}.${expectedKey}`,
      `expected a value ending with "/${String(expectedValue)}", got ${show(actualValue)}`,
    );
  }
}

function compareContents(expected: JsonObject, actual: JsonObject, at: string): void {
  if (!('contents' in expected)) {
    return;
  }
  const text = readFileSync(localPathOf(actualPathOrLocation(actual, at)), 'utf8');
  if (text !== expected.contents) {
    throw new CompareMismatch(
      `${at}.contents`,
      `expected ${show(expected.contents)}, got ${show(text)}`,
    );
  }
}

/** Checks declared and expected `checksum` and `size` against the bytes on disk. */
function compareChecksumAndSize(expected: JsonObject, actual: JsonObject, at: string): void {
  if (actual.class !== 'File') {
    return;
  }
  const localPath = localPathOf(actualPathOrLocation(actual, at));
  const checksum = `sha1$${sha1OfFile(localPath)}`;
  const size = statSync(localPath).size;

  for (const [source, object] of [
    ['declared', actual],
    ['expected', expected],
  ] as const) {
    if ('checksum' in object && object.checksum !== checksum) {
      throw new CompareMismatch(
        `${at}.checksum`,
        `${source} ${show(object.checksum)} differs from ${checksum} of ${localPath}`,
      );
    }
    if ('size' in object && !pythonScalarEquals(object.size, size)) {
      throw new CompareMismatch(
        `${at}.size`,
        `${source} ${show(object.size)} differs from size ${size} of ${localPath}`,
      );
    }
  }
}

/** Compares the File or Directory keys that no dedicated step handled. Extra actual keys pass. */
function compareOtherKeys(expected: JsonObject, actual: JsonObject, at: string): void {
  for (const [key, value] of Object.entries(expected)) {
    if (!FILE_KEYS_CHECKED_SEPARATELY.has(key)) {
      compareValue(value, actual[key], childPath(at, key));
    }
  }
}

function actualPathOrLocation(actual: JsonObject, at: string): string {
  const value = 'path' in actual ? actual.path : actual.location;
  if (typeof value !== 'string') {
    throw new CompareMismatch(at, 'actual File has neither a path nor a location string');
  }
  return value;
}

/** Converts a `file://` URI into a percent-decoded local path and returns other strings as is. */
function localPathOf(value: string): string {
  if (value.startsWith('file://')) {
    return decodeURIComponent(new URL(value).pathname);
  }
  return value;
}

function existsAs(localPath: string, kind: 'file' | 'directory'): boolean {
  try {
    const stats = statSync(localPath);
    return kind === 'file' ? stats.isFile() : stats.isDirectory();
  } catch {
    return false;
  }
}

function sha1OfFile(localPath: string): string {
  const hash = createHash('sha1');
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(localPath, 'r');
  try {
    let bytesRead: number;
    while ((bytesRead = readSync(fd, buffer, 0, buffer.length, null)) > 0) {
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Mirrors Python's `==` on JSON scalars: booleans equal the numbers 0 and 1, integers equal
 * floats of the same value, and `null` equals only `null` or a missing value.
 *
 * NOTE: integers above 2^53 lose precision when JSON is parsed into JavaScript numbers, so two
 * large integers that Python distinguishes can compare equal here.
 */
function pythonScalarEquals(expected: unknown, actual: unknown): boolean {
  const left = expected === undefined ? null : expected;
  const right = actual === undefined ? null : actual;
  if (isNumeric(left) && isNumeric(right)) {
    return Number(left) === Number(right);
  }
  return left === right;
}

function isNumeric(value: unknown): value is number | boolean {
  return typeof value === 'number' || typeof value === 'boolean';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childPath(at: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing (missing)';
  }
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
