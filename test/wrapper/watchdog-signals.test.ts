import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanJobFolder } from '../../src/wrapper/job-folder-scan.js';
import { StallDetector, type ProgressSignals } from '../../src/wrapper/stall-detector.js';
import { findViolation, type WatchdogSample } from '../../src/wrapper/watchdog.js';

const quiet: ProgressSignals = {
  cpuSeconds: 10,
  ioBytes: 1000,
  outputBytes: 50,
  folderFingerprint: 'a',
};

describe('StallDetector', () => {
  it('stalls when no signal moves', () => {
    const detector = new StallDetector({ windowMs: 60_000 });
    expect(detector.update(quiet, 0).stalled).toBe(false);
    expect(detector.update(quiet, 59_999).stalled).toBe(false);

    const state = detector.update(quiet, 60_000);
    expect(state.stalled).toBe(true);
    expect(state.lastProgressAt).toBe(0);
  });

  it.each([
    ['cpuSeconds', { cpuSeconds: 11 }],
    ['ioBytes', { ioBytes: 1001 }],
    ['outputBytes', { outputBytes: 51 }],
    ['folderFingerprint', { folderFingerprint: 'b' }],
  ] as const)('keeps progress when %s moves', (name, change) => {
    const detector = new StallDetector({ windowMs: 60_000 });
    detector.update(quiet, 0);

    const state = detector.update({ ...quiet, ...change }, 50_000);
    expect(state.moved).toEqual([name]);
    expect(state.lastProgressAt).toBe(50_000);
    expect(detector.update({ ...quiet, ...change }, 100_000).stalled).toBe(false);
    expect(detector.update({ ...quiet, ...change }, 110_000).stalled).toBe(true);
  });

  it('ignores CPU below the fraction', () => {
    const detector = new StallDetector({ windowMs: 60_000, minCpuFraction: 0.05 });
    detector.update(quiet, 0);

    // 1 s of CPU in 60 s is under 5 %, like a process that only wakes to poll.
    const state = detector.update({ ...quiet, cpuSeconds: 11 }, 60_000);
    expect(state.moved).toEqual([]);
    expect(state.stalled).toBe(true);
  });
});

describe('scanJobFolder', () => {
  let dir = '';
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sums files and tracks changes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scan-'));
    await writeFile(join(dir, 'a.txt'), 'x'.repeat(10_000));
    const first = await scanJobFolder(dir);
    expect(first.files).toBe(1);
    expect(first.bytes).toBeGreaterThanOrEqual(8192);
    expect((await scanJobFolder(dir)).fingerprint).toBe(first.fingerprint);

    await utimes(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    expect((await scanJobFolder(dir)).fingerprint).not.toBe(first.fingerprint);
  });

  it('leaves ignored files out of the fingerprint', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scan-'));
    const log = join(dir, 'wrapper.log');
    await writeFile(log, 'one');
    const first = await scanJobFolder(dir, new Set([log]));

    await writeFile(log, 'one two three');
    const second = await scanJobFolder(dir, new Set([log]));
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.files).toBe(1);
  });
});

describe('findViolation', () => {
  const sample: WatchdogSample = {
    takenAt: 100_000,
    wallClockSeconds: 100,
    cpuSeconds: 50,
    rssBytes: 2e9,
    vsizeBytes: 4e9,
    processCount: 3,
    freeDiskBytes: 5e8,
    jobDirBytes: 1e9,
    ioBytes: 0,
    outputBytes: 0,
    lastProgressAt: 0,
    stalled: true,
  };

  it('checks limits in a fixed order', () => {
    expect(findViolation(sample, { wallClockSeconds: 99, cpuSeconds: 1 })?.reason).toBe(
      'wallClock',
    );
    expect(findViolation(sample, { cpuSeconds: 49, maxRssBytes: 1 })?.reason).toBe('cpu');
    expect(findViolation(sample, { maxRssBytes: 1e9 })?.reason).toBe('memory');
    expect(findViolation(sample, {})?.reason).toBe('disk');
    expect(findViolation(sample, { minFreeDiskBytes: 0 })?.reason).toBe('stalled');
  });

  it('skips limits set to zero', () => {
    const calm = { ...sample, stalled: false };
    const limits = { wallClockSeconds: 0, cpuSeconds: 0, maxRssBytes: 0, minFreeDiskBytes: 0 };
    expect(findViolation(calm, limits)).toBeUndefined();
  });

  it('describes the measured value', () => {
    const violation = findViolation(sample, { maxRssBytes: 1e9 });
    expect(violation?.applicationStatus).toBe(
      'resident memory 2000.0 MB over the limit of 1000.0 MB',
    );
  });
});
