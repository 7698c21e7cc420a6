/**
 * The bundle's launcher and its V8 code cache, run as real processes from a copy of
 * dist/ctao-pilot.cjs in an empty folder. Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Script } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISABLE_VARIABLE, openCodeCache } from '../../build/code-cache.js';

const BUNDLE = fileURLToPath(new URL('../../dist/ctao-pilot.cjs', import.meta.url));
const TOOL = fileURLToPath(new URL('./fixtures/echo-number.cwl', import.meta.url));
const SCATTER = fileURLToPath(new URL('./fixtures/scatter-echo.cwl', import.meta.url));

let workDir: string;
let cacheHome: string;
let bundle: string;

beforeEach(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'ctao-launcher-'));
  cacheHome = path.join(workDir, 'cache');
  bundle = path.join(workDir, 'empty', 'ctao-pilot.cjs');
  mkdirSync(path.dirname(bundle));
  copyFileSync(BUNDLE, bundle);
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function runBundle(args: string[], env: NodeJS.ProcessEnv = {}) {
  const childEnv = { PATH: process.env.PATH, HOME: workDir, XDG_CACHE_HOME: cacheHome, ...env };
  return spawnSync(process.execPath, [bundle, ...args], {
    cwd: path.dirname(bundle),
    env: childEnv,
    encoding: 'utf8',
  });
}

/** Returns the paths of the cache files written so far. */
function cacheFiles(): string[] {
  const root = path.join(cacheHome, 'ctao-pilot');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.cache'))
    .map((name) => path.join(root, name));
}

describe('bundle launcher', () => {
  it('runs exec from an empty folder', () => {
    writeFileSync(path.join(workDir, 'job.json'), JSON.stringify({ number: 5 }));
    const outdir = path.join(workDir, 'out');
    const result = runBundle(['exec', `--outdir=${outdir}`, '--quiet', TOOL, '../job.json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).line.basename).toBe('5.txt');
    expect(readFileSync(path.join(outdir, '5.txt'), 'utf8')).toBe('5\n');
  });

  it('keeps the exit codes of the commands', () => {
    expect(runBundle(['--version']).status).toBe(0);
    expect(runBundle(['no-such-command']).status).toBe(2);
    expect(runBundle(['exec']).status).toBe(2);
    const missing = runBundle(['exec', '--quiet', path.join(workDir, 'missing.cwl')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('missing.cwl');
  });

  it('writes a private cache file per command', () => {
    runBundle(['--version']);
    runBundle(['exec', '--help']);
    const files = cacheFiles().map((file) => path.basename(file).split('-')[0]);
    expect(files.sort()).toEqual(['exec', 'other']);
    for (const file of cacheFiles()) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    }
  });

  it('reuses an accepted cache file', () => {
    runBundle(['--version']);
    const [file] = cacheFiles();
    const firstWrite = statSync(file!).mtimeMs;
    const result = runBundle(['--version']);
    expect(result.stdout).toMatch(/^ctao-pilot \d/);
    expect(statSync(file!).mtimeMs).toBe(firstWrite);
  });

  it('rewrites a rejected cache file', () => {
    runBundle(['--version']);
    const [file] = cacheFiles();
    const good = readFileSync(file!);
    writeFileSync(file!, Buffer.alloc(good.length, 7), { mode: 0o600 });
    const result = runBundle(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ctao-pilot \d/);
    expect(readFileSync(file!).equals(Buffer.alloc(good.length, 7))).toBe(false);
  });

  it('adds parts a later run uses', () => {
    writeFileSync(path.join(workDir, 'one.json'), JSON.stringify({ number: 5 }));
    writeFileSync(path.join(workDir, 'many.json'), JSON.stringify({ numbers: [1, 2] }));
    const exec = (document: string, job: string) =>
      runBundle(['exec', `--outdir=${path.join(workDir, 'out')}`, '--quiet', document, job]);
    const header = (file: string) => readFileSync(file, 'latin1').split('\n')[0];

    expect(exec(TOOL, '../one.json').status).toBe(0);
    const [file] = cacheFiles();
    expect(header(file!)).toBe('');

    expect(exec(SCATTER, '../many.json').status).toBe(0);
    expect(header(file!)).toBe('workflow,scatter');
    const secondWrite = statSync(file!).mtimeMs;

    expect(exec(SCATTER, '../many.json').status).toBe(0);
    expect(exec(TOOL, '../one.json').status).toBe(0);
    expect(statSync(file!).mtimeMs).toBe(secondWrite);
  });

  it('runs silently when the cache folder cannot be made', () => {
    writeFileSync(path.join(workDir, 'plain-file'), '');
    const result = runBundle(['--version'], { XDG_CACHE_HOME: path.join(workDir, 'plain-file') });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ctao-pilot \d/);
  });

  it('writes no cache when turned off', () => {
    const result = runBundle(['--version'], { [DISABLE_VARIABLE]: '1' });
    expect(result.status).toBe(0);
    expect(() => cacheFiles()).toThrow(/ENOENT/);
  });

  it('numbers exec lines as the file does', () => {
    const text = readFileSync(bundle, 'latin1');
    const opening = '/* ctao-pilot exec program, compiled by the launcher above\n';
    const textStart = text.lastIndexOf(opening) + opening.length;
    const recorded = /exec: \{[^}]*lineOffset: (\d+)/.exec(text)?.[1];
    const linesBefore = text.slice(0, textStart).split('\n').length - 1;
    expect(Number(recorded)).toBe(linesBefore);
  });

  it('keeps pilot code out of exec', () => {
    const text = readFileSync(bundle, 'latin1');
    const execOpen = text.lastIndexOf('/* ctao-pilot exec program');
    const fullOpen = text.lastIndexOf('/* ctao-pilot program, Brotli');
    expect(execOpen).toBeGreaterThan(0);
    expect(fullOpen).toBeGreaterThan(execOpen);
    const execProgram = text.slice(execOpen, fullOpen);
    expect(execProgram).toContain('execCommand');
    expect(execProgram).not.toContain('function runCommand(');
    expect(execProgram).not.toContain('undici');
    const fullProgram = text.slice(text.indexOf('\n', fullOpen) + 1, text.lastIndexOf('\n*/'));
    expect(fullProgram).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('runs with text added after the programs', () => {
    appendFileSync(bundle, '\n// appended\n');
    expect(runBundle(['--version']).status).toBe(0);
    expect(runBundle(['exec', '--help']).status).toBe(0);
  });

  it('rejects a program comment changed after the build', () => {
    const text = readFileSync(bundle, 'latin1');
    // One space more at the start of each program.
    const edited = text
      .replace('compiled by the launcher above\n', 'compiled by the launcher above\n ')
      .replace('decoded by the launcher above\n', 'decoded by the launcher above\n ');
    writeFileSync(bundle, edited, 'latin1');
    for (const args of [['--version'], ['exec', '--help']]) {
      const result = runBundle(args);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('is damaged');
    }
  });
});

describe('openCodeCache', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  function writeCache(folderMode: number, fileMode: number): void {
    const folder = path.join(cacheHome, 'ctao-pilot', 'build-1');
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, folderMode);
    const file = path.join(folder, `exec-v8-${process.versions.v8}-${process.arch}.cache`);
    writeFileSync(file, 'workflow,javascript\nbytes');
    chmodSync(file, fileMode);
  }

  it('reads a private cache file', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o700, 0o600);
    const cache = openCodeCache('build-1', 'exec');
    expect(cache.data?.toString()).toBe('bytes');
    expect([...cache.parts]).toEqual(['workflow', 'javascript']);
  });

  it('ignores a file without the parts line', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o700, 0o600);
    const file = cacheFiles()[0]!;
    writeFileSync(file, 'bytes');
    const cache = openCodeCache('build-1', 'exec');
    expect(cache.data).toBeUndefined();
    expect(cache.parts.size).toBe(0);
  });

  it('ignores a file others can write', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o700, 0o666);
    expect(openCodeCache('build-1', 'exec').data).toBeUndefined();
  });

  it('ignores a folder others can write', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o777, 0o600);
    expect(openCodeCache('build-1', 'exec').data).toBeUndefined();
  });

  it('ignores another build and command', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o700, 0o600);
    expect(openCodeCache('build-2', 'exec').data).toBeUndefined();
    expect(openCodeCache('build-1', 'run').data).toBeUndefined();
  });

  it('writes nowhere others can write', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    writeCache(0o777, 0o600);
    const script = { cachedDataRejected: undefined } as Script;
    const before = process.listeners('exit');
    openCodeCache('build-1', 'exec').saveOnExit(script, new Set());
    expect(process.listeners('exit')).toEqual(before);
  });

  it('saves on exit when the file is missing', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    const script = { cachedDataRejected: undefined } as Script;
    const before = process.listeners('exit');
    openCodeCache('build-1', 'exec').saveOnExit(script, new Set());
    const added = process.listeners('exit').filter((listener) => !before.includes(listener));
    added.forEach((listener) => process.removeListener('exit', listener));
    expect(added).toHaveLength(1);
  });

  it('reads nothing when turned off', () => {
    process.env.XDG_CACHE_HOME = cacheHome;
    process.env[DISABLE_VARIABLE] = '1';
    writeCache(0o700, 0o600);
    expect(openCodeCache('build-1', 'exec').data).toBeUndefined();
  });
});
