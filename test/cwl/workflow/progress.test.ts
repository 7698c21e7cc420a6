import { describe, expect, it } from 'vitest';
import {
  formatProgressLine,
  ProgressTracker,
  type ProgressSnapshot,
} from '../../../src/cwl/workflow/progress.js';

/** Builds a tracker in the state of the example summary: 7 steps, one a scatter of 10 jobs. */
function exampleTracker(): ProgressTracker {
  const tracker = new ProgressTracker();
  for (const step of ['fetch', 'calibrate', 'reduce']) {
    tracker.declare(step);
    tracker.update(step, 'running');
    tracker.update(step, 'done');
  }
  tracker.declare('align', 10);
  for (let i = 0; i < 10; i++) tracker.update('align', 'running', i);
  for (let i = 0; i < 4; i++) tracker.update('align', 'done', i);
  tracker.declare('merge');
  tracker.update('merge', 'running');
  tracker.declare('plot');
  tracker.update('plot', 'skipped');
  tracker.declare('publish');
  return tracker;
}

describe('ProgressTracker', () => {
  it('counts jobs of a scatter step', () => {
    const tracker = new ProgressTracker();
    tracker.declare('align', 5);
    tracker.update('align', 'running', 0);
    tracker.update('align', 'running', 1);
    tracker.update('align', 'done', 0);
    tracker.update('align', 'skipped', 2);
    const step = tracker.snapshot().steps[0]!;
    expect(step.state).toBe('running');
    expect(step.jobs).toEqual({ total: 5, waiting: 2, running: 1, done: 1, skipped: 1, failed: 0 });
  });

  it('derives step state from jobs', () => {
    const tracker = new ProgressTracker();
    tracker.declare('all-done', 2);
    tracker.update('all-done', 'done', 0);
    tracker.update('all-done', 'skipped', 1);
    tracker.declare('all-skipped', 2);
    tracker.update('all-skipped', 'skipped', 0);
    tracker.update('all-skipped', 'skipped', 1);
    tracker.declare('one-failed', 2);
    tracker.update('one-failed', 'failed', 0);
    tracker.update('one-failed', 'done', 1);
    tracker.declare('untouched', 3);
    const states = tracker.snapshot().steps.map((step) => [step.name, step.state]);
    expect(states).toEqual([
      ['all-done', 'done'],
      ['all-skipped', 'skipped'],
      ['one-failed', 'failed'],
      ['untouched', 'waiting'],
    ]);
  });

  it('finishes unfinished jobs on a step update', () => {
    const tracker = new ProgressTracker();
    tracker.declare('align', 4);
    tracker.update('align', 'done', 0);
    tracker.update('align', 'running', 1);
    tracker.update('align', 'failed');
    const step = tracker.snapshot().steps[0]!;
    expect(step.state).toBe('failed');
    expect(step.jobs).toEqual({ total: 4, waiting: 0, running: 0, done: 1, skipped: 0, failed: 3 });
  });

  it('ends an empty scatter as done', () => {
    const tracker = new ProgressTracker();
    tracker.declare('empty', 0);
    expect(tracker.snapshot().steps[0]!.state).toBe('waiting');
    tracker.update('empty', 'done');
    expect(tracker.snapshot().steps[0]!.state).toBe('done');
  });

  it('grows a step declared again', () => {
    const tracker = new ProgressTracker();
    tracker.declare('align');
    tracker.update('align', 'running', 0);
    tracker.declare('align', 3);
    tracker.declare('align', 2);
    tracker.update('align', 'done', 4);
    const jobs = tracker.snapshot().steps[0]!.jobs;
    expect(jobs.total).toBe(5);
    expect(jobs.waiting).toBe(3);
    expect(jobs.running).toBe(1);
    expect(jobs.done).toBe(1);
  });

  it('declares unknown steps on update', () => {
    const tracker = new ProgressTracker();
    tracker.update('late', 'running', 2);
    const step = tracker.snapshot().steps[0]!;
    expect(step.name).toBe('late');
    expect(step.jobs.total).toBe(3);
    expect(step.jobs.running).toBe(1);
  });

  it('rejects invalid job numbers', () => {
    const tracker = new ProgressTracker();
    expect(() => tracker.declare('a', -1)).toThrow('invalid job count -1 for step a');
    expect(() => tracker.declare('a', 1.5)).toThrow('invalid job count 1.5 for step a');
    expect(() => tracker.update('a', 'done', -2)).toThrow('invalid job index -2 for step a');
  });

  it('sums steps and jobs in the snapshot', () => {
    const snapshot = exampleTracker().snapshot();
    expect(snapshot.stepCounts).toEqual({
      total: 7,
      waiting: 1,
      running: 2,
      done: 3,
      skipped: 1,
      failed: 0,
    });
    expect(snapshot.jobs).toEqual({
      total: 16,
      waiting: 1,
      running: 7,
      done: 7,
      skipped: 1,
      failed: 0,
    });
  });

  it('writes the example summary', () => {
    expect(exampleTracker().snapshot().summary).toBe(
      '3/7 steps done, 2 running: align (4/10), merge; 1 skipped',
    );
  });

  it('lists failed steps in the summary', () => {
    const tracker = new ProgressTracker();
    tracker.declare('a');
    tracker.declare('b');
    tracker.update('a', 'done');
    tracker.update('b', 'failed');
    expect(tracker.snapshot().summary).toBe('1/2 steps done; 1 failed: b');
  });

  it('notifies only on changes', () => {
    const snapshots: ProgressSnapshot[] = [];
    const tracker = new ProgressTracker((snapshot) => snapshots.push(snapshot));
    tracker.declare('align', 2);
    tracker.declare('align', 2);
    tracker.update('align', 'running', 0);
    tracker.update('align', 'running', 0);
    tracker.update('align', 'done', 0);
    tracker.update('align', 'done', 0);
    expect(snapshots).toHaveLength(3);
    expect(snapshots[1]!.steps[0]!.jobs.running).toBe(1);
    expect(snapshots[2]!.steps[0]!.jobs.done).toBe(1);
  });

  it('snapshots do not change later', () => {
    const tracker = new ProgressTracker();
    tracker.declare('align', 2);
    const before = tracker.snapshot();
    tracker.update('align', 'done', 0);
    expect(before.steps[0]!.jobs.done).toBe(0);
    expect(before.jobs.done).toBe(0);
  });

  it('handles a 1,000-job scatter quickly', () => {
    let calls = 0;
    let last: ProgressSnapshot | undefined;
    const tracker = new ProgressTracker((snapshot) => {
      calls++;
      last = snapshot;
    });
    for (let s = 0; s < 20; s++) tracker.declare(`step${s}`);
    tracker.declare('scatter', 1000);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      tracker.update('scatter', 'running', i);
      tracker.update('scatter', 'done', i);
    }
    const elapsedMs = performance.now() - started;
    expect(calls).toBe(21 + 2000);
    expect(last!.steps[20]!.state).toBe('done');
    expect(last!.steps[20]!.jobs.done).toBe(1000);
    // This loop took about 40 ms on a 2-core Xeon virtual machine, so the bound leaves room
    // for slower runners.
    expect(elapsedMs).toBeLessThan(500);
  });
});

describe('formatProgressLine', () => {
  function manyRunning(count: number): ProgressSnapshot {
    const tracker = new ProgressTracker();
    for (let i = 0; i < count; i++) tracker.update(`simulate-shower-${i}`, 'running');
    tracker.update('failed-step', 'failed');
    return tracker.snapshot();
  }

  it('keeps a short line whole', () => {
    const snapshot = exampleTracker().snapshot();
    expect(formatProgressLine(snapshot, 255)).toBe(snapshot.summary);
  });

  it('drops step names past the limit', () => {
    const line = formatProgressLine(manyRunning(30), 120);
    expect(line.length).toBeLessThanOrEqual(120);
    expect(line.startsWith('0/31 steps done, 30 running: simulate-shower-0, ')).toBe(true);
    expect(line).toMatch(/, \+\d+ more; 1 failed$/);
  });

  it('cuts the line when no name fits', () => {
    const line = formatProgressLine(manyRunning(3), 20);
    expect(line).toBe('0/4 steps done, 3...');
  });

  it('returns empty text for no room', () => {
    expect(formatProgressLine(manyRunning(1), 0)).toBe('');
  });

  it('stays within 255 characters', () => {
    for (const count of [1, 5, 50, 500]) {
      expect(formatProgressLine(manyRunning(count), 255).length).toBeLessThanOrEqual(255);
    }
  });
});
