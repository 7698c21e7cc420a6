import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunnerArgs } from './options.js';

const REPO_ROOT = '/repo/ctao-pilot';

describe('parseRunnerArgs defaults', () => {
  const options = parseRunnerArgs([], REPO_ROOT);

  it('uses the shared v1.2 suite', () => {
    expect(options.suiteDir).toBe('/repo/shared/cwl-conformance/v1.2');
  });

  it('runs the bundled pilot exec command', () => {
    expect(options.runner).toEqual([
      process.execPath,
      '/repo/ctao-pilot/dist/ctao-pilot.cjs',
      'exec',
    ]);
  });

  it('allows 600 seconds per test', () => {
    expect(options.timeoutSeconds).toBe(600);
  });

  it('runs one test per core', () => {
    expect(options.jobs).toBe(availableParallelism());
  });

  it('writes the report under .conformance', () => {
    expect(options.reportFile).toBe('/repo/ctao-pilot/.conformance/report.json');
  });

  it('has no selection', () => {
    expect(options.selection).toEqual({});
    expect(options.hasExplicitSelection).toBe(false);
  });
});

describe('parseRunnerArgs values', () => {
  it('splits lists on commas', () => {
    const options = parseRunnerArgs(['--tags', 'a, b,', '--ids', 'x'], REPO_ROOT);
    expect(options.selection).toEqual({ tags: ['a', 'b'], ids: ['x'] });
    expect(options.hasExplicitSelection).toBe(true);
  });

  it('splits the runner on spaces', () => {
    const options = parseRunnerArgs(['--runner', 'cwltool  --no-container'], REPO_ROOT);
    expect(options.runner).toEqual(['cwltool', '--no-container']);
  });

  it('resolves relative paths against the current folder', () => {
    const options = parseRunnerArgs(['--suite', 'suite', '--report', 'r.json'], REPO_ROOT);
    expect(options.suiteDir).toBe(path.resolve('suite'));
    expect(options.reportFile).toBe(path.resolve('r.json'));
  });

  it('accepts a fractional timeout', () => {
    expect(parseRunnerArgs(['--timeout', '0.5'], REPO_ROOT).timeoutSeconds).toBe(0.5);
  });

  it.each([
    [['--jobs', '1.5'], '--jobs "1.5" is invalid'],
    [['--jobs', 'many'], '--jobs "many" is invalid'],
    [['--timeout=-1'], '--timeout "-1" is invalid'],
    [['--timeout', '0'], '--timeout "0" is invalid'],
    [['--select', 'workflows'], '--select "workflows" is invalid'],
    [['--runner', ' '], '--runner is empty'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseRunnerArgs(argv, REPO_ROOT)).toThrow(message);
  });
});
