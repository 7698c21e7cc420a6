import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratch, removeScratch, writeTree } from './fixtures.js';

const run = promisify(execFile);
const cliEntry = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
let bundle = '';

// The command runs from a bundle built like build/bundle.mjs, written to a scratch folder so
// that the shared dist/ is left alone.
beforeAll(async () => {
  bundle = join(await makeScratch(), 'ctao-pilot.mjs');
  await build({
    entryPoints: [cliEntry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    define: { __PILOT_VERSION__: JSON.stringify('0.0.0-test') },
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        'const require = __createRequire(import.meta.url);',
      ].join('\n'),
    },
  });
}, 60_000);

afterAll(removeScratch);

/** Runs the bundled `probe` command and returns its exit code, standard output and error. */
async function probe(args: string[]) {
  const env = { PATH: process.env.PATH };
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, 'probe', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('probe command', () => {
  it('prints the probe as JSON', { timeout: 20_000 }, async () => {
    const workDir = await makeScratch();
    const args = ['--work-dir', workDir, '--cores', '3', '--ram-mb', '2000', '--wall-time', '3600'];
    const result = await probe([...args, '--site', 'CTAO.TEST.ch']);

    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(output)).toEqual(['node', 'slot', 'benchmark', 'batch', 'timeBudget']);
    expect(output.node?.site).toBe('CTAO.TEST.ch');
    expect(output.slot).toMatchObject({ cores: 3, 'ram-mb': 2000, 'wall-time': 3600 });
    expect(output.timeBudget).toMatchObject({ wallTimeLeftSeconds: 3600, source: 'configuration' });
    expect(result.stdout).toContain('\n  "node": {');
  });

  it('prints help', async () => {
    const result = await probe(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--wall-time S');
  });

  it('rejects an invalid core count', async () => {
    const result = await probe(['--cores', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --cores "many"');
  });

  it('rejects an unknown flag', async () => {
    const result = await probe(['--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--colour');
  });

  it('rejects a missing work folder', async () => {
    const missing = join(await makeScratch(), 'missing');
    const result = await probe(['--work-dir', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid --work-dir "${missing}": folder not found`);
  });

  it('rejects a file as work folder', async () => {
    const scratch = await makeScratch();
    await writeTree(scratch, { 'plain.txt': 'x' });
    const result = await probe(['--work-dir', join(scratch, 'plain.txt')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a file, expected a folder');
  });
});
