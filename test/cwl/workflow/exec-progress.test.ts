import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attachProgressDisplay, renderFrame } from '../../../src/commands/exec-progress.js';
import { ProgressTracker, type ProgressSnapshot } from '../../../src/cwl/workflow/progress.js';

/** A writable stream that records every write and calls itself a terminal. */
class FakeTerminal extends Writable {
  readonly writes: string[] = [];

  constructor(
    readonly isTTY: boolean,
    readonly columns = 60,
    readonly rows = 20,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.writes.push(chunk.toString());
    callback();
  }

  get text(): string {
    return this.writes.join('');
  }
}

function snapshotOf(update: (tracker: ProgressTracker) => void): ProgressSnapshot {
  const tracker = new ProgressTracker();
  update(tracker);
  return tracker.snapshot();
}

const TWO_STEPS = snapshotOf((tracker) => {
  tracker.declare('simulate', 4);
  tracker.declare('merge');
  tracker.update('simulate', 'running', 0);
  tracker.update('simulate', 'done', 1);
});

describe('attachProgressDisplay', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('draws nothing when not a terminal', () => {
    const stream = new FakeTerminal(false);
    const display = attachProgressDisplay(stream);
    display.onProgress(TWO_STEPS);
    vi.advanceTimersByTime(1000);
    display.close();
    expect(stream.writes).toEqual([]);
    expect(display.payloadOutput).toBe(stream);
  });

  it('draws nothing when quiet', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { quiet: true });
    display.onProgress(TWO_STEPS);
    display.close();
    expect(stream.writes).toEqual([]);
  });

  it('draws the first frame after one interval', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { intervalMs: 100 });
    display.onProgress(TWO_STEPS);
    expect(stream.writes).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(stream.writes).toHaveLength(1);
    expect(stream.writes[0]).toBe(
      [
        '  running  simulate  1/4 jobs finished, 1 running',
        '  waiting  merge',
        '0/2 steps done, 1 running: simulate (1/4)',
        '',
      ].join('\n'),
    );
  });

  it('redraws in place at most every interval', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { intervalMs: 100 });
    const tracker = new ProgressTracker((snapshot) => display.onProgress(snapshot));
    tracker.declare('scatter', 50);
    for (let i = 0; i < 50; i++) {
      tracker.update('scatter', 'running', i);
      vi.advanceTimersByTime(10);
    }
    // Updates from 0 to 490 ms: frames at 100, 200, 300, 400 and 500 ms.
    expect(stream.writes).toHaveLength(5);
    vi.advanceTimersByTime(1000);
    expect(stream.writes).toHaveLength(5);
    // Every frame after the first moves up over the two lines of the previous one.
    for (const frame of stream.writes.slice(1))
      expect(frame.startsWith('\x1b[2A\r\x1b[J')).toBe(true);
    expect(stream.writes[4]).toContain('50 running');
  });

  it('draws only the newest snapshot', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { intervalMs: 100 });
    display.onProgress(TWO_STEPS);
    const finished = snapshotOf((tracker) => tracker.update('merge', 'done'));
    display.onProgress(finished);
    vi.advanceTimersByTime(100);
    expect(stream.writes).toHaveLength(1);
    expect(stream.writes[0]).toBe('  done     merge\n1/1 steps done\n');
  });

  it('draws nothing for a run shorter than the interval', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { intervalMs: 100 });
    display.onProgress(TWO_STEPS);
    vi.advanceTimersByTime(99);
    display.close();
    vi.advanceTimersByTime(1000);
    expect(stream.writes).toEqual([]);
  });

  it('uses 80 columns for a zero-size terminal', () => {
    const stream = new FakeTerminal(true, 0, 0);
    const display = attachProgressDisplay(stream);
    display.onProgress(TWO_STEPS);
    vi.advanceTimersByTime(100);
    expect(stream.writes[0]).toContain('0/2 steps done, 1 running: simulate (1/4)');
    display.close();
  });

  it('erases the frame on close', () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream);
    display.onProgress(TWO_STEPS);
    vi.advanceTimersByTime(100);
    display.onProgress(TWO_STEPS);
    display.close();
    display.close();
    vi.advanceTimersByTime(1000);
    expect(stream.writes).toHaveLength(2);
    expect(stream.writes[1]).toBe('\x1b[3A\r\x1b[J');
    display.onProgress(TWO_STEPS);
    expect(stream.writes).toHaveLength(2);
  });

  it('writes payload output above the frame', async () => {
    const stream = new FakeTerminal(true);
    const display = attachProgressDisplay(stream, { intervalMs: 100 });
    display.onProgress(TWO_STEPS);
    vi.advanceTimersByTime(100);
    await new Promise<void>((resolve) => display.payloadOutput.write('partial', () => resolve()));
    expect(stream.writes[1]).toBe('\x1b[3A\r\x1b[J');
    expect(stream.writes[2]).toBe('partial');
    vi.advanceTimersByTime(100);
    // The frame starts on a new line after output without a newline.
    expect(stream.writes[3]!.startsWith('\n  running  simulate')).toBe(true);
    display.close();
  });
});

describe('renderFrame', () => {
  it('cuts lines to the terminal width', () => {
    const snapshot = snapshotOf((tracker) => tracker.update('a'.repeat(100), 'running'));
    const lines = renderFrame(snapshot, 40, 20);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39);
  });

  it('leaves out finished steps when short of rows', () => {
    const snapshot = snapshotOf((tracker) => {
      for (let i = 0; i < 10; i++) tracker.update(`done${i}`, 'done');
      tracker.update('busy', 'running');
    });
    const lines = renderFrame(snapshot, 80, 6);
    expect(lines).toEqual(['  running  busy', '10/11 steps done, 1 running: busy']);
  });

  it('counts steps that do not fit', () => {
    const snapshot = snapshotOf((tracker) => {
      for (let i = 0; i < 10; i++) tracker.update(`busy${i}`, 'running');
    });
    const lines = renderFrame(snapshot, 200, 6);
    expect(lines).toHaveLength(5);
    expect(lines[3]).toBe('  ... 7 more steps');
    expect(lines[4]!.startsWith('0/10 steps done, 10 running: busy0, ')).toBe(true);
  });
});
