import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectBatch, readTimeBudget } from '../../src/probe/time-budget.js';
import { parseLsfTimeLeft, readLsfTimeLeft } from '../../src/probe/time-left-lsf.js';
import { parsePbsDuration, readPbsTimeLeft } from '../../src/probe/time-left-pbs.js';
import { makeScratch, removeScratch, writeStub } from './fixtures.js';

afterEach(removeScratch);

/** Output of `qstat -f` for a running job, with a wrapped Variable_List as PBS prints it. */
function qstatOutput(attributes: string[]): string {
  return [
    'Job Id: 99.server',
    '    Job_Name = pilot',
    '    job_state = R',
    ...attributes.map((line) => `    ${line}`),
    '    Variable_List = PBS_O_HOME=/home/pilot,PBS_O_PATH=/usr/bin:/bin,',
    '\tPBS_O_WORKDIR=/home/pilot',
    '',
  ].join('\n');
}

/**
 * Writes stub `name` that records its arguments and the time it ran (epoch ms), then prints
 * `stdout` and exits with `exitCode`. Returns the env with the stub first on PATH.
 */
async function stubCommand(name: string, stdout: string, exitCode = 0) {
  const bin = join(await makeScratch(), 'bin');
  const outputFile = join(bin, 'output');
  const script = [
    `echo "$@" > ${bin}/args`,
    `date +%s%3N > ${bin}/ran-at`,
    `cat ${outputFile}`,
    `exit ${exitCode}`,
  ].join('\n');
  await writeStub(bin, name, script);
  await writeFile(outputFile, stdout);
  return { bin, env: { PATH: `${bin}:${process.env.PATH}` } };
}

async function hangingCommand(name: string) {
  const bin = join(await makeScratch(), 'bin');
  await writeStub(bin, name, 'exec sleep 60');
  return { PATH: `${bin}:${process.env.PATH}` };
}

describe('parsePbsDuration', () => {
  it('reads PBS durations', () => {
    expect(parsePbsDuration('01:00:00')).toBe(3600);
    expect(parsePbsDuration('48:30:15')).toBe(174_615);
    expect(parsePbsDuration('90')).toBe(90);
    expect(parsePbsDuration('2:00')).toBe(120);
    expect(parsePbsDuration('1:00:00:00')).toBe(86_400);
    expect(parsePbsDuration('00:10:00.50')).toBe(600);
  });

  it('rejects other text', () => {
    expect(parsePbsDuration('unlimited')).toBeUndefined();
    expect(parsePbsDuration('1:2:3:4:5')).toBeUndefined();
    expect(parsePbsDuration('')).toBeUndefined();
  });
});

describe('readPbsTimeLeft', () => {
  it('subtracts used walltime from the limit', async () => {
    const output = qstatOutput([
      'Resource_List.walltime = 02:00:00',
      'resources_used.walltime = 00:15:30',
    ]);
    const { bin, env } = await stubCommand('qstat', output);
    const budget = await readPbsTimeLeft('99.server', 2000, env);

    expect(await readFile(join(bin, 'args'), 'utf8')).toBe('-f 99.server\n');
    expect(budget.wallTimeLeftSeconds).toBe(7200 - 930);
    expect(budget.source).toBe('pbs qstat');
    const ranAt = Number(await readFile(join(bin, 'ran-at'), 'utf8'));
    expect(budget.readAt).toBeLessThanOrEqual(ranAt);
  });

  it('counts no used walltime as zero', async () => {
    const { env } = await stubCommand('qstat', qstatOutput(['Resource_List.walltime = 00:30:00']));
    expect((await readPbsTimeLeft('99.server', 2000, env)).wallTimeLeftSeconds).toBe(1800);
  });

  it('returns 0 past the limit', async () => {
    const output = qstatOutput([
      'Resource_List.walltime = 01:00:00',
      'resources_used.walltime = 01:02:00',
    ]);
    const { env } = await stubCommand('qstat', output);
    expect((await readPbsTimeLeft('99.server', 2000, env)).wallTimeLeftSeconds).toBe(0);
  });

  it('returns null without a walltime limit', async () => {
    const { env } = await stubCommand('qstat', qstatOutput(['resources_used.walltime = 00:01:00']));
    const budget = await readPbsTimeLeft('99.server', 2000, env);
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('pbs qstat: no walltime limit');
  });

  it('throws for malformed output', async () => {
    const garbled = await stubCommand('qstat', 'qstat: Unknown Job Id 99.server\n');
    await expect(readPbsTimeLeft('99.server', 2000, garbled.env)).rejects.toThrow(
      /no "Job Id:" line/,
    );
    const badTime = await stubCommand('qstat', qstatOutput(['Resource_List.walltime = soon']));
    await expect(readPbsTimeLeft('99.server', 2000, badTime.env)).rejects.toThrow(
      /invalid walltime: soon/,
    );
  });

  it('throws when qstat fails', async () => {
    const { env } = await stubCommand('qstat', '', 153);
    await expect(readPbsTimeLeft('99.server', 2000, env)).rejects.toThrow(/exit status 153/);
  });

  it('throws when qstat hangs', async () => {
    const env = await hangingCommand('qstat');
    const started = Date.now();
    await expect(readPbsTimeLeft('99.server', 300, env)).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('uses PBS_WALLTIME without qstat', async () => {
    const emptyBin = await makeScratch();
    const budget = await readPbsTimeLeft('99.server', 2000, {
      PATH: emptyBin,
      PBS_WALLTIME: '3600000',
    });
    expect(budget.source).toBe('pbs PBS_WALLTIME');
    expect(budget.wallTimeLeftSeconds).toBe(3_600_000 - Math.floor(process.uptime()));
  });

  it('throws for an invalid PBS_WALLTIME', async () => {
    const emptyBin = await makeScratch();
    await expect(
      readPbsTimeLeft('99.server', 2000, { PATH: emptyBin, PBS_WALLTIME: '1:00:00' }),
    ).rejects.toThrow(/invalid PBS_WALLTIME "1:00:00"/);
    await expect(readPbsTimeLeft('99.server', 2000, { PATH: emptyBin })).rejects.toThrow(
      /qstat not found on PATH and PBS_WALLTIME not set/,
    );
  });
});

describe('parseLsfTimeLeft', () => {
  it('reads time_left values', () => {
    expect(parseLsfTimeLeft('2:05 L\n')).toEqual({ seconds: 7500, status: 'L' });
    expect(parseLsfTimeLeft('100:00 E')).toEqual({ seconds: 360_000, status: 'E' });
    expect(parseLsfTimeLeft('01:02:03 L')).toEqual({ seconds: 3723, status: 'L' });
    expect(parseLsfTimeLeft('0:00 X')).toEqual({ seconds: 0, status: 'X' });
    expect(parseLsfTimeLeft(' - ')).toBeNull();
  });

  it('rejects other text', () => {
    expect(parseLsfTimeLeft('2:05')).toBeUndefined();
    expect(parseLsfTimeLeft('Job <1234> is not found')).toBeUndefined();
    expect(parseLsfTimeLeft('')).toBeUndefined();
  });
});

describe('readLsfTimeLeft', () => {
  it('reads the time left of an array element', async () => {
    const { bin, env } = await stubCommand('bjobs', '1:30 L\n');
    const budget = await readLsfTimeLeft('1234', 2000, { ...env, LSB_JOBINDEX: '7' });

    expect(await readFile(join(bin, 'args'), 'utf8')).toBe('-noheader -o time_left 1234[7]\n');
    expect(budget.wallTimeLeftSeconds).toBe(5400);
    expect(budget.source).toBe('lsf bjobs');
    const ranAt = Number(await readFile(join(bin, 'ran-at'), 'utf8'));
    expect(budget.readAt).toBeLessThanOrEqual(ranAt);
  });

  it('counts an estimate as the time left', async () => {
    const { env } = await stubCommand('bjobs', '0:45 E\n');
    const budget = await readLsfTimeLeft('1234', 2000, env);
    expect(budget.wallTimeLeftSeconds).toBe(2700);
    expect(budget.source).toBe('lsf bjobs estimate');
  });

  it('returns null without a run limit', async () => {
    const { env } = await stubCommand('bjobs', '-\n');
    const budget = await readLsfTimeLeft('1234', 2000, env);
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('lsf bjobs: no run limit');
  });

  it('returns null past an estimate', async () => {
    const { env } = await stubCommand('bjobs', '0:00 X\n');
    const budget = await readLsfTimeLeft('1234', 2000, env);
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('lsf bjobs: estimated run time passed');
  });

  it('returns 0 at the run limit', async () => {
    const { env } = await stubCommand('bjobs', '0:00 L\n');
    expect((await readLsfTimeLeft('1234', 2000, env)).wallTimeLeftSeconds).toBe(0);
  });

  it('throws for malformed output', async () => {
    const { env } = await stubCommand('bjobs', 'RUNLIMIT\n60.0 min\n');
    await expect(readLsfTimeLeft('1234', 2000, env)).rejects.toThrow(/invalid time_left: RUNLIMIT/);
  });

  it('throws when bjobs fails', async () => {
    const { env } = await stubCommand('bjobs', '', 255);
    await expect(readLsfTimeLeft('1234', 2000, env)).rejects.toThrow(
      /job 1234 failed with exit status 255/,
    );
  });

  it('throws when bjobs hangs', async () => {
    const env = await hangingCommand('bjobs');
    const started = Date.now();
    await expect(readLsfTimeLeft('1234', 300, env)).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('throws without bjobs', async () => {
    const emptyBin = await makeScratch();
    await expect(readLsfTimeLeft('1234', 2000, { PATH: emptyBin })).rejects.toThrow(
      /bjobs not found/,
    );
  });
});

describe('readTimeBudget dispatch', () => {
  it('reads PBS and LSF jobs', async () => {
    const pbsStub = await stubCommand('qstat', qstatOutput(['Resource_List.walltime = 00:10:00']));
    const pbsEnv = { ...pbsStub.env, PBS_JOBID: '99.server' };
    const pbs = await readTimeBudget(undefined, await detectBatch(pbsEnv), 2000, pbsEnv);
    expect(pbs.wallTimeLeftSeconds).toBe(600);
    expect(pbs.source).toBe('pbs qstat');

    const lsfStub = await stubCommand('bjobs', '0:10 L\n');
    const lsfEnv = { ...lsfStub.env, LSB_JOBID: '1234' };
    const lsf = await readTimeBudget(undefined, await detectBatch(lsfEnv), 2000, lsfEnv);
    expect(lsf.wallTimeLeftSeconds).toBe(600);
    expect(await readFile(join(lsfStub.bin, 'args'), 'utf8')).toBe('-noheader -o time_left 1234\n');
  });
});
