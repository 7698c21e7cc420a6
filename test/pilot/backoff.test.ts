import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/pilot/index.js';

describe('Backoff', () => {
  it('doubles up to the maximum', () => {
    const backoff = new Backoff(5, 30, () => 0.999999);

    const waits = [1, 2, 3, 4, 5].map(() => Math.round(backoff.next()));

    expect(waits).toEqual([5, 10, 20, 30, 30]);
  });

  it('draws at least half of the nominal wait', () => {
    const backoff = new Backoff(8, 8, () => 0);

    expect(backoff.next()).toBe(4);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff(1, 100, () => 0.999999);
    backoff.next();
    backoff.next();

    backoff.reset();

    expect(Math.round(backoff.next())).toBe(1);
  });
});
