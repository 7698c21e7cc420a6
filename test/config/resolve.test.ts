import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatRunHelp, resolveConfig, type PilotConfig } from '../../src/config/index.js';

let folder: string;
let secretFile: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'ctao-pilot-config-'));
  secretFile = join(folder, 'secret');
  await writeFile(secretFile, '  s3cret\n', { mode: 0o600 });
});

function resolve(argv: string[], env: NodeJS.ProcessEnv = {}): PilotConfig {
  const result = resolveConfig({ argv, env });
  if (result.kind !== 'config') throw new Error('expected a configuration');
  return result.config;
}

describe('resolveConfig', () => {
  it('applies file, environment and flags in order', async () => {
    const file = join(folder, 'pilot.yaml');
    await writeFile(
      file,
      `service_url: https://file.example\nidle_timeout: 10\nsite: FileSite\nsecret_file: ${secretFile}\ncores: 2\n`,
    );

    const config = resolve(['--config', file, '--idle-timeout', '30'], {
      CTAO_PILOT_IDLE_TIMEOUT: '20',
      CTAO_PILOT_SITE: 'EnvSite',
    });

    expect(config.serviceUrl).toBe('https://file.example');
    expect(config.idleTimeout).toBe(30);
    expect(config.site).toBe('EnvSite');
    expect(config.cores).toBe(2);
    expect(config.secret).toBe('s3cret');
  });

  it('fills defaults', () => {
    const config = resolve([
      '--service-url',
      'http://127.0.0.1:8000/',
      '--secret-file',
      secretFile,
    ]);

    expect(config.serviceUrl).toBe('http://127.0.0.1:8000');
    expect(config.idleTimeout).toBe(600);
    expect(config.minFreeDiskMb).toBe(2500);
    expect(config.pilotStamp).toMatch(/^[0-9a-f]{16}$/);
  });

  it('resolves relative payload PATH folders', () => {
    const config = resolve([
      '--service-url',
      'http://127.0.0.1:8000/',
      '--secret-file',
      secretFile,
      '--payload-path-prepend',
      'examples/bin,/opt/tools/bin',
    ]);

    expect(config.payloadPathPrepend).toEqual([
      join(process.cwd(), 'examples/bin'),
      '/opt/tools/bin',
    ]);
  });

  it('takes the stamp from DIRAC_PILOT_STAMP', () => {
    const config = resolve(['--service-url', 'https://x.example', '--secret-file', secretFile], {
      DIRAC_PILOT_STAMP: 'stamp-1',
    });

    expect(config.pilotStamp).toBe('stamp-1');
  });

  it('rejects a secret file readable by others', async () => {
    const open = join(folder, 'open-secret');
    await writeFile(open, 'x');
    await chmod(open, 0o644);

    expect(() => resolve(['--service-url', 'https://x.example', '--secret-file', open])).toThrow(
      /chmod 600/,
    );
  });

  it('names the bad value and the fix', () => {
    expect(() =>
      resolve(['--service-url', 'https://x.example', '--secret-file', secretFile, '--cores', '0']),
    ).toThrow(/"0" for flag --cores; use a whole number of at least 1/);
    expect(() => resolve(['--secret-file', secretFile])).toThrow(/--service-url/);
    expect(() => resolve(['--service-url', 'ftp://x', '--secret-file', secretFile])).toThrow(
      /scheme must be https/,
    );
  });

  it('rejects unknown file keys', async () => {
    const file = join(folder, 'bad.yaml');
    await writeFile(file, 'idle_timeuot: 3\n');

    expect(() => resolve(['--config', file])).toThrow(/unknown key "idle_timeuot"/);
  });

  it('has no flag for the secret', () => {
    expect(() => resolve(['--service-url', 'https://x.example', '--secret', 'x'])).toThrow(
      /never a flag/,
    );
    expect(formatRunHelp()).toContain('CTAO_PILOT_SECRET');
  });

  it('shows what each flag takes', () => {
    const help = formatRunHelp();
    for (const flag of [
      '--service-url URL',
      '--work-dir DIR',
      '--cores N',
      '--ram-mb N',
      '--wall-time S',
      '--tags A,B',
      '--ca-file FILE',
      '--log-level TEXT',
    ]) {
      expect(help).toContain(`  ${flag} `);
    }
    expect(help).toMatch(/ {2}--keep-job-dirs {2,}/);
    expect(help).toContain('memory to use, in MiB');
  });
});
