import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectBatch, readTimeBudget } from '../../src/probe/time-budget.js';
import {
  periodicRemoveLimit,
  readHtcondorTimeLeft,
  timeLeftFromClassAd,
} from '../../src/probe/time-left-htcondor.js';
import { makeScratch, removeScratch } from './fixtures.js';

afterEach(removeScratch);

/** Epoch milliseconds of a fixed instant, so ad arithmetic is exact. */
const NOW_MS = 1_750_000_000_000;
const NOW_S = NOW_MS / 1000;

async function writeJobAd(lines: string[]): Promise<string> {
  const path = join(await makeScratch(), '.job.ad');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('timeLeftFromClassAd', () => {
  it('subtracts the run time from BatchRuntime', () => {
    const ad = `ClusterId = 5\nJobCurrentStartDate = ${NOW_S - 600}\nBatchRuntime = 3600\n`;
    const budget = timeLeftFromClassAd(ad, NOW_MS);
    expect(budget.wallTimeLeftSeconds).toBe(3000);
    expect(budget.source).toBe('htcondor job ad BatchRuntime');
    expect(budget.readAt).toBe(NOW_MS);
  });

  it('reads MaxRuntime in any letter case', () => {
    const ad = `jobcurrentstartdate = ${NOW_S - 100}\nMAXRUNTIME = 1000\n`;
    const budget = timeLeftFromClassAd(ad, NOW_MS);
    expect(budget.wallTimeLeftSeconds).toBe(900);
    expect(budget.source).toBe('htcondor job ad MaxRuntime');
  });

  it('takes the smallest of several limits', () => {
    const ad = [
      `JobCurrentStartDate = ${NOW_S - 60}`,
      'BatchRuntime = 7200',
      'MaxRuntime = 5000',
      'PeriodicRemove = (JobStatus == 2) && ((time() - JobCurrentStartDate) > 1800)',
    ].join('\n');
    const budget = timeLeftFromClassAd(ad, NOW_MS);
    expect(budget.wallTimeLeftSeconds).toBe(1740);
    expect(budget.source).toBe('htcondor job ad PeriodicRemove');
  });

  it('returns 0 past the limit', () => {
    const ad = `JobCurrentStartDate = ${NOW_S - 4000}\nBatchRuntime = 3600\n`;
    expect(timeLeftFromClassAd(ad, NOW_MS).wallTimeLeftSeconds).toBe(0);
  });

  it('returns null without a limit', () => {
    const ad = `JobCurrentStartDate = ${NOW_S}\nMaxJobRetirementTime = 600\nOwner = "pilot"\n`;
    const budget = timeLeftFromClassAd(ad, NOW_MS);
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('htcondor job ad: no wall time limit');
  });

  it('ignores a limit that is an expression', () => {
    const ad = `JobCurrentStartDate = ${NOW_S}\nMaxRuntime = 2 * 3600\n`;
    expect(timeLeftFromClassAd(ad, NOW_MS).wallTimeLeftSeconds).toBeNull();
  });

  it('rejects a limit without a start date', () => {
    expect(() => timeLeftFromClassAd('BatchRuntime = 3600\n', NOW_MS)).toThrow(
      /BatchRuntime but no valid JobCurrentStartDate \(missing\)/,
    );
    expect(() =>
      timeLeftFromClassAd('JobCurrentStartDate = undefined\nBatchRuntime = 3600\n', NOW_MS),
    ).toThrow(/\(undefined\)/);
  });
});

describe('periodicRemoveLimit', () => {
  it('reads time-since-start terms', () => {
    expect(periodicRemoveLimit('(time() - JobCurrentStartDate) > 86400')).toBe(86_400);
    expect(periodicRemoveLimit('CurrentTime - EnteredCurrentStatus >= 3600 || x')).toBe(3600);
    expect(
      periodicRemoveLimit('(time()-JobCurrentStartDate>100)||(time()-JobCurrentStartDate>50)'),
    ).toBe(50);
  });

  it('ignores other expressions', () => {
    expect(periodicRemoveLimit('RemoteWallClockTime > 3600')).toBeUndefined();
    expect(periodicRemoveLimit('JobStatus == 5')).toBeUndefined();
  });
});

describe('readHtcondorTimeLeft', () => {
  it('reads the job ad file', async () => {
    const startedAt = Math.floor(Date.now() / 1000) - 120;
    const adPath = await writeJobAd([`JobCurrentStartDate = ${startedAt}`, 'BatchRuntime = 3600']);
    const before = Date.now();
    const budget = await readHtcondorTimeLeft({ _CONDOR_JOB_AD: adPath });

    expect(budget.readAt).toBeGreaterThanOrEqual(before);
    expect(budget.readAt).toBeLessThanOrEqual(Date.now());
    const expected = 3600 - Math.floor(budget.readAt / 1000 - startedAt);
    expect(budget.wallTimeLeftSeconds).toBe(expected);
  });

  it('returns null without _CONDOR_JOB_AD', async () => {
    const budget = await readHtcondorTimeLeft({ _CONDOR_SCRATCH_DIR: '/tmp' });
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('htcondor: _CONDOR_JOB_AD not set');
  });

  it('throws for a missing job ad file', async () => {
    const adPath = join(await makeScratch(), 'absent.ad');
    await expect(readHtcondorTimeLeft({ _CONDOR_JOB_AD: adPath })).rejects.toThrow(/ENOENT/);
  });
});

describe('readTimeBudget', () => {
  it('prefers the configured wall time', async () => {
    const before = Date.now();
    const budget = await readTimeBudget(7200, { system: 'slurm', jobId: '1' }, 1000, {});
    expect(budget.wallTimeLeftSeconds).toBe(7200);
    expect(budget.source).toBe('configuration');
    expect(budget.readAt).toBeGreaterThanOrEqual(before);
  });

  it('returns null outside a batch system', async () => {
    const budget = await readTimeBudget(undefined, { system: 'none' }, 1000, {});
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('none');
  });

  it('reads an HTCondor job through detectBatch', async () => {
    const startedAt = Math.floor(Date.now() / 1000);
    const adPath = await writeJobAd([
      'ClusterId = 812',
      'ProcId = 3',
      `JobCurrentStartDate = ${startedAt}`,
      'MaxRuntime = 86400',
    ]);
    const env = { _CONDOR_JOB_AD: adPath };
    const batch = await detectBatch(env);
    const budget = await readTimeBudget(undefined, batch, 1000, env);

    expect(batch).toEqual({ system: 'htcondor', jobId: '812.3' });
    expect(budget.source).toBe('htcondor job ad MaxRuntime');
    expect(budget.wallTimeLeftSeconds).toBeGreaterThan(86_400 - 5);
    expect(budget.wallTimeLeftSeconds).toBeLessThanOrEqual(86_400);
  });

  it('returns null for PBS without a job id', async () => {
    const budget = await readTimeBudget(undefined, { system: 'pbs' }, 1000, {});
    expect(budget.wallTimeLeftSeconds).toBeNull();
    expect(budget.source).toBe('pbs: no job id');
  });
});
