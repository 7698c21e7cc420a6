import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CwlExecutionError } from '../../../src/errors.js';
import { JobScheduler, MAX_OVERTAKES } from '../../../src/cwl/workflow/scheduler.js';

/** Counts how many tasks run at once and what they hold. */
class Meter {
  running = 0;
  maxRunning = 0;
  cores = 0;
  maxCores = 0;
  ramMb = 0;
  maxRamMb = 0;
  readonly startOrder: string[] = [];

  /** Returns a task that sleeps `ms` while counted as running with the given resources. */
  task(label: string, cores: number, ramMb: number, ms: number) {
    return async (): Promise<string> => {
      this.startOrder.push(label);
      this.running++;
      this.cores += cores;
      this.ramMb += ramMb;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      this.maxCores = Math.max(this.maxCores, this.cores);
      this.maxRamMb = Math.max(this.maxRamMb, this.ramMb);
      await sleep(ms);
      this.running--;
      this.cores -= cores;
      this.ramMb -= ramMb;
      return label;
    };
  }
}

describe('JobScheduler', () => {
  it('limits running tasks by cores', async () => {
    const scheduler = new JobScheduler({ cores: 4, ramMb: 100_000, parallel: true });
    const meter = new Meter();
    const runs = Array.from({ length: 12 }, (_, i) =>
      scheduler.run(`job${i}`, { cores: 1, ramMb: 1 }, meter.task(`job${i}`, 1, 1, 20)),
    );
    const results = await Promise.all(runs);
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => `job${i}`));
    expect(meter.maxCores).toBe(4);
    expect(meter.maxRunning).toBe(4);
  });

  it('limits running tasks by memory', async () => {
    const scheduler = new JobScheduler({ cores: 64, ramMb: 1000, parallel: true });
    const meter = new Meter();
    const runs = Array.from({ length: 9 }, (_, i) =>
      scheduler.run(`job${i}`, { cores: 1, ramMb: 300 }, meter.task(`job${i}`, 1, 300, 20)),
    );
    await Promise.all(runs);
    expect(meter.maxRamMb).toBe(900);
    expect(meter.maxRunning).toBe(3);
  });

  it('counts fractional cores', async () => {
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1000, parallel: true });
    const meter = new Meter();
    const runs = Array.from({ length: 6 }, (_, i) =>
      scheduler.run(`job${i}`, { cores: 0.5, ramMb: 1 }, meter.task(`job${i}`, 0.5, 1, 20)),
    );
    await Promise.all(runs);
    expect(meter.maxRunning).toBe(2);
  });

  it('clamps a request larger than the slot', async () => {
    const scheduler = new JobScheduler({ cores: 4, ramMb: 1000, parallel: true });
    const meter = new Meter();
    const big = scheduler.run('big', { cores: 32, ramMb: 64_000 }, meter.task('big', 4, 1000, 30));
    const small = scheduler.run('small', { cores: 1, ramMb: 1 }, meter.task('small', 1, 1, 5));
    await expect(big).resolves.toBe('big');
    await expect(small).resolves.toBe('small');
    expect(meter.maxRunning).toBe(1);
    expect(meter.startOrder).toEqual(['big', 'small']);
  });

  it('runs one task at a time without parallel', async () => {
    const scheduler = new JobScheduler({ cores: 16, ramMb: 64_000, parallel: false });
    const meter = new Meter();
    const runs = Array.from({ length: 5 }, (_, i) =>
      scheduler.run(`job${i}`, { cores: 1, ramMb: 1 }, meter.task(`job${i}`, 1, 1, 10)),
    );
    await Promise.all(runs);
    expect(meter.maxRunning).toBe(1);
    expect(meter.startOrder).toEqual(['job0', 'job1', 'job2', 'job3', 'job4']);
  });

  it('backfills small tasks beside a waiting big one', async () => {
    const scheduler = new JobScheduler({ cores: 4, ramMb: 1000, parallel: true });
    const meter = new Meter();
    const first = scheduler.run('first', { cores: 2, ramMb: 1 }, meter.task('first', 2, 1, 60));
    const big = scheduler.run('big', { cores: 4, ramMb: 1 }, meter.task('big', 4, 1, 5));
    const small = scheduler.run('small', { cores: 1, ramMb: 1 }, meter.task('small', 1, 1, 5));
    await Promise.all([first, big, small]);
    expect(meter.startOrder).toEqual(['first', 'small', 'big']);
  });

  it('stops backfill once a task was overtaken enough', async () => {
    const scheduler = new JobScheduler({ cores: 2, ramMb: 1000, parallel: true });
    const meter = new Meter();
    const runs = [scheduler.run('first', { cores: 1, ramMb: 1 }, meter.task('first', 1, 1, 250))];
    runs.push(scheduler.run('big', { cores: 2, ramMb: 1 }, meter.task('big', 2, 1, 5)));
    // 'first' runs long enough for MAX_OVERTAKES small tasks of 2 ms to pass the big one.
    const smallCount = MAX_OVERTAKES + 10;
    for (let i = 0; i < smallCount; i++) {
      runs.push(scheduler.run(`s${i}`, { cores: 1, ramMb: 1 }, meter.task(`s${i}`, 1, 1, 2)));
    }
    await Promise.all(runs);
    const bigPosition = meter.startOrder.indexOf('big');
    // 'first' plus at most MAX_OVERTAKES small tasks start before the big one.
    expect(bigPosition).toBe(MAX_OVERTAKES + 1);
    expect(meter.startOrder.slice(bigPosition + 1)).toHaveLength(smallCount - MAX_OVERTAKES);
  });

  it('settles a finished job before the next starts', async () => {
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1000, parallel: false });
    const events: string[] = [];
    const first = scheduler
      .run('first', { cores: 1, ramMb: 1 }, async () => {
        await sleep(5);
      })
      .then(async () => {
        // A caller's continuation a few promise hops later, as in a Workflow engine.
        await Promise.resolve();
        await Promise.resolve();
        events.push('first settled');
      });
    const second = scheduler.run('second', { cores: 1, ramMb: 1 }, async () => {
      events.push('second started');
    });
    await Promise.all([first, second]);
    expect(events).toEqual(['first settled', 'second started']);
  });

  it('passes on task failures', async () => {
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1000, parallel: true });
    const failing = scheduler.run('bad', { cores: 1, ramMb: 1 }, () => {
      throw new Error('tool exploded');
    });
    const next = scheduler.run('next', { cores: 1, ramMb: 1 }, async () => 'ran');
    await expect(failing).rejects.toThrow('tool exploded');
    await expect(next).resolves.toBe('ran');
  });

  it('stop aborts running and rejects queued tasks', async () => {
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1000, parallel: true });
    let abortReason: unknown;
    const running = scheduler.run('long', { cores: 1, ramMb: 1 }, async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      abortReason = signal.reason;
      return 'aborted';
    });
    let queuedStarted = false;
    const queued = scheduler.run('queued', { cores: 1, ramMb: 1 }, async () => {
      queuedStarted = true;
    });
    await sleep(5);

    const reason = new Error('step align failed');
    scheduler.stop(reason);
    expect(scheduler.stopped).toBe(true);
    await expect(running).resolves.toBe('aborted');
    expect(abortReason).toBe(reason);

    const error = await queued.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CwlExecutionError);
    expect((error as CwlExecutionError).code).toBe('CWL_RUN_STOPPED');
    expect((error as CwlExecutionError).message).toContain('step align failed');
    expect((error as CwlExecutionError).message).toContain('queued');
    expect(queuedStarted).toBe(false);
  });

  it('rejects run calls after stop', async () => {
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1000, parallel: true });
    scheduler.stop(new Error('workflow cancelled'));
    let started = false;
    const late = scheduler.run('late', { cores: 1, ramMb: 1 }, async () => {
      started = true;
    });
    await expect(late).rejects.toMatchObject({ code: 'CWL_RUN_STOPPED' });
    await expect(late).rejects.toThrow('workflow cancelled');
    expect(started).toBe(false);
  });

  it('rejects invalid capacity and requests', async () => {
    expect(() => new JobScheduler({ cores: 0, ramMb: 1, parallel: true })).toThrow(
      'invalid scheduler cores 0',
    );
    expect(() => new JobScheduler({ cores: 1, ramMb: Number.NaN, parallel: true })).toThrow(
      'invalid scheduler ramMb NaN',
    );
    const scheduler = new JobScheduler({ cores: 1, ramMb: 1, parallel: true });
    await expect(scheduler.run('neg', { cores: -1, ramMb: 1 }, async () => 1)).rejects.toThrow(
      'invalid cores request -1 for job neg',
    );
  });

  it('keeps no reference to finished tasks', async () => {
    // Turning the flag on at run time exposes gc() in contexts created afterwards.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const scheduler = new JobScheduler({ cores: 8, ramMb: 64_000, parallel: true });
    const refs: WeakRef<object>[] = [];
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      // Each task captures a 64 KiB buffer, so retained tasks would show in the heap.
      const payload = { buffer: new Uint8Array(64 * 1024), index: i };
      refs.push(new WeakRef(payload));
      runs.push(
        scheduler.run(`job${i}`, { cores: 1, ramMb: 1 }, async () => {
          await sleep(0);
          return payload.index;
        }),
      );
    }
    const results = await Promise.all(runs);
    expect(results[999]).toBe(999);
    runs.length = 0;
    results.length = 0;
    await sleep(10);

    gc();
    await sleep(0);
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
