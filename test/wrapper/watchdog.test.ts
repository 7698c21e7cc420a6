import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessTreeKiller } from '../../src/sandbox/index.js';
import {
  Watchdog,
  WATCHDOG_MINOR_STATUS,
  type WatchdogLimits,
  type WatchdogViolation,
} from '../../src/wrapper/watchdog.js';
import { findMarkedProcesses, startPayload } from '../sandbox/helpers.js';

interface Fixture {
  jobDir: string;
  killer: ProcessTreeKiller;
  watchdog?: Watchdog;
}

const fixtures: Fixture[] = [];

afterEach(async () => {
  for (const fixture of fixtures.splice(0)) {
    fixture.watchdog?.stop();
    const result = await fixture.killer.kill();
    await fixture.killer.dispose();
    await rm(fixture.jobDir, { recursive: true, force: true });
    expect(result.survivors).toEqual([]);
    expect(await findMarkedProcesses(fixture.killer.marker)).toEqual([]);
  }
});

/** Starts `script` as a job payload in a fresh job folder and a watchdog over it. */
async function watchPayload(
  script: string,
  limits: WatchdogLimits,
  options: { getOutputBytes?: () => number } = {},
): Promise<{
  watchdog: Watchdog;
  violation: Promise<WatchdogViolation>;
  violations: WatchdogViolation[];
}> {
  const jobDir = await mkdtemp(join(tmpdir(), 'watchdog-'));
  const killer = new ProcessTreeKiller({ jobId: 1, graceMs: 300, killWaitMs: 2000 });
  const fixture: Fixture = { jobDir, killer };
  fixtures.push(fixture);
  await killer.prepare();

  const payload = await startPayload(script, killer.environment, 'started', jobDir);
  await killer.addProcess(payload.pid);

  const watchdog = new Watchdog({
    limits: { minFreeDiskBytes: 0, ...limits },
    intervalMs: 200,
    jobDir,
    processes: killer,
    getOutputBytes: options.getOutputBytes,
  });
  fixture.watchdog = watchdog;
  const violations: WatchdogViolation[] = [];
  const violation = new Promise<WatchdogViolation>((resolve) => {
    watchdog.start((reported) => {
      violations.push(reported);
      resolve(reported);
    });
  });
  return { watchdog, violation, violations };
}

/** Resolves with the violation, or undefined when none came within `ms`. */
function within(violation: Promise<WatchdogViolation>, ms: number) {
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));
  return Promise.race([violation, timeout]);
}

describe('Watchdog limits', () => {
  it('stops a job over its memory limit', async () => {
    const script =
      "exec python3 -c \"import time; b = b'x' * (200 * 2**20); print('started', flush=True); time.sleep(300)\"";
    const { violation } = await watchPayload(script, { maxRssBytes: 100e6 });

    const result = await within(violation, 10_000);
    expect(result?.reason).toBe('memory');
    expect(result?.minorStatus).toBe('Job has exceeded maximum memory');
    expect(result?.code).toBe('WATCHDOG_MEMORY_LIMIT');
    expect(result?.sample.rssBytes).toBeGreaterThan(100e6);
  });

  it('stops a stalled job', async () => {
    const started = Date.now();
    const { violation } = await watchPayload('echo started; sleep 300', { stallWindowMs: 3000 });

    const result = await within(violation, 10_000);
    expect(result?.reason).toBe('stalled');
    expect(result?.minorStatus).toBe(WATCHDOG_MINOR_STATUS.stalled);
    expect(result?.minorStatus).toBe('Watchdog identified this job as stalled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });

  it('stops a job whose folder grows too large', async () => {
    const script = 'echo started; head -c 3000000 /dev/urandom > big.dat; sleep 300';
    const { violation } = await watchPayload(script, { maxJobDirBytes: 1e6 });

    const result = await within(violation, 10_000);
    expect(result?.reason).toBe('disk');
    expect(result?.minorStatus).toBe('Job has insufficient disk space to continue');
    expect(result?.sample.jobDirBytes).toBeGreaterThan(1e6);
  });

  it('stops a job when free disk is short', async () => {
    // No test machine has an exabyte free, so this minimum is always missed.
    const { violation } = await watchPayload('echo started; sleep 300', {
      minFreeDiskBytes: 1e18,
    });

    const result = await within(violation, 5000);
    expect(result?.reason).toBe('disk');
    expect(result?.code).toBe('WATCHDOG_DISK_SPACE');
    expect(result?.sample.freeDiskBytes).toBeGreaterThan(0);
  });

  it('stops a job over its wall clock', async () => {
    const { violation } = await watchPayload('echo started; sleep 300', { wallClockSeconds: 1 });

    const result = await within(violation, 5000);
    expect(result?.reason).toBe('wallClock');
    expect(result?.minorStatus).toBe('Job has exceeded maximum wall clock time');
    expect(result?.sample.wallClockSeconds).toBeGreaterThan(1);
  });

  it('stops a busy loop over its CPU limit', async () => {
    const script = 'echo started; while :; do :; done';
    const { violation } = await watchPayload(script, { cpuSeconds: 1 });

    const result = await within(violation, 10_000);
    expect(result?.reason).toBe('cpu');
    expect(result?.minorStatus).toBe('Job has reached the CPU limit of the queue');
    expect(result?.sample.cpuSeconds).toBeGreaterThan(1);
  });

  it('counts CPU of a daemonised child', async () => {
    // The busy loop runs in a new session reparented to init, out of the payload's group.
    const script = 'sh -c \'setsid sh -c "while :; do :; done" &\'; echo started; sleep 300';
    const { violation } = await watchPayload(script, { cpuSeconds: 1 });

    const result = await within(violation, 10_000);
    expect(result?.reason).toBe('cpu');
  });
});

describe('Watchdog progress', () => {
  it('keeps a job that writes files', async () => {
    const script = 'echo started; while :; do date >> progress.log; sleep 0.3; done';
    const { violation, watchdog } = await watchPayload(script, { stallWindowMs: 1500 });

    expect(await within(violation, 4000)).toBeUndefined();
    const sample = await watchdog.sample();
    expect(sample.stalled).toBe(false);
    expect(sample.processCount).toBeGreaterThanOrEqual(1);
  });

  it('keeps a job whose output grows', async () => {
    let outputBytes = 0;
    const timer = setInterval(() => (outputBytes += 10), 300);
    try {
      const { violation } = await watchPayload(
        'echo started; sleep 300',
        { stallWindowMs: 1500 },
        { getOutputBytes: () => outputBytes },
      );
      expect(await within(violation, 4000)).toBeUndefined();
    } finally {
      clearInterval(timer);
    }
  });

  it('reports a violation only once', async () => {
    const { watchdog, violations } = await watchPayload('echo started; sleep 300', {
      wallClockSeconds: 0.1,
    });

    await new Promise((resolve) => setTimeout(resolve, 1500));
    watchdog.start((violation) => violations.push(violation));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(violations.length).toBe(1);
    expect(watchdog.latestSample?.wallClockSeconds).toBeGreaterThan(0.1);
  });
});
