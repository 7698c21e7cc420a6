import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { hasProgram, makeScratch, removeScratch } from './fixtures.js';

afterEach(removeScratch);

const entryPoint = fileURLToPath(new URL('./fixtures/bundle-entry.ts', import.meta.url));

describe('archive module in an esbuild bundle', () => {
  it('runs the pure-JS codecs', { timeout: 60_000 }, async () => {
    const scratch = await makeScratch();
    const bundle = join(scratch, 'archive.mjs');
    // Same platform, format and require banner as build/bundle.mjs.
    await build({
      entryPoints: [entryPoint],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      banner: {
        js: [
          "import { createRequire as __createRequire } from 'node:module';",
          'const require = __createRequire(import.meta.url);',
        ].join('\n'),
      },
    });
    const source = join(scratch, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'sub', 'data.txt'), 'data\n'.repeat(1000));
    const args = [bundle, source, scratch];
    if (hasProgram('zstd')) {
      const zstdArchive = join(scratch, 'gnu.tar.zst');
      execFileSync('tar', ['--zstd', '-cf', zstdArchive, '-C', source, '.']);
      args.push(zstdArchive);
    }

    // The bundle runs from the scratch folder, where no node_modules can be found.
    const output = execFileSync(process.execPath, args, { cwd: scratch, encoding: 'utf8' });
    const results = JSON.parse(output) as Record<string, { members: string[]; bytes: number }>;

    for (const format of ['tar.bz2', 'tar.gz', 'tar']) {
      expect(results[format], format).toEqual({ members: ['sub', 'sub/data.txt'], bytes: 5000 });
    }
    if (hasProgram('zstd')) expect(results['tar.zst']?.bytes).toBe(5000);
  });
});
