import { describe, expect, it } from 'vitest';
import { ServiceClock, formatMicroseconds, hasTimezone } from '../../src/wms/index.js';
import { parseMicroseconds } from '../../src/wms/clock.js';

/** Creates a clock whose local time the test sets. */
function clockAt(startMs: number) {
  let localMs = startMs;
  const clock = new ServiceClock(() => localMs);
  return {
    clock,
    set(ms: number) {
      localMs = ms;
    },
  };
}

const base = Date.parse('2026-12-04T15:00:00.000Z');

describe('ServiceClock', () => {
  it('has offset 0 before any sample', () => {
    const { clock } = clockAt(base);

    expect(clock.offsetMs()).toBe(0);
    expect(clock.serviceNow().getTime()).toBe(base);
  });

  it('estimates an offset from Date headers', () => {
    const { clock } = clockAt(base);
    // The service runs 10 s ahead; its header truncates to the second.
    clock.observe(new Date(base + 10_000).toUTCString(), base - 50, base + 50);

    expect(Math.abs(clock.offsetMs() - 10_000)).toBeLessThanOrEqual(600);
  });

  it('narrows the offset with more samples', () => {
    const { clock } = clockAt(base);
    // True offset +10.3 s: local 14:59:59.650 is service 15:00:09.950, header :09.
    clock.observe('Fri, 04 Dec 2026 15:00:09 GMT', base - 360, base - 340);
    // Local 14:59:59.710 is service 15:00:10.010, header :10.
    clock.observe('Fri, 04 Dec 2026 15:00:10 GMT', base - 300, base - 280);

    expect(Math.abs(clock.offsetMs() - 10_300)).toBeLessThan(60);
  });

  it('starts over when a clock steps', () => {
    const { clock } = clockAt(base);
    clock.observe(new Date(base).toUTCString(), base, base + 10);
    clock.observe(new Date(base + 3_600_000).toUTCString(), base + 20, base + 30);

    expect(Math.abs(clock.offsetMs() - 3_600_000)).toBeLessThanOrEqual(1_000);
  });

  it('ignores a missing or invalid header', () => {
    const { clock } = clockAt(base);
    clock.observe(undefined, base, base);
    clock.observe('not a date', base, base);

    expect(clock.offsetMs()).toBe(0);
  });

  it('stamps strictly increasing times per job', () => {
    const { clock } = clockAt(base);
    const stamps = [clock.stampFor(1), clock.stampFor(1), clock.stampFor(1)];

    expect(stamps[0]! < stamps[1]!).toBe(true);
    expect(stamps[1]! < stamps[2]!).toBe(true);
    expect(stamps[0]).toBe('2026-12-04T15:00:00.000000+00:00');
    expect(stamps[1]).toBe('2026-12-04T15:00:00.000001+00:00');
  });

  it('keeps stamps increasing when the estimate moves back', () => {
    const { clock, set } = clockAt(base);
    clock.observe(new Date(base + 5_000).toUTCString(), base - 10, base + 10);
    const ahead = clock.stampFor(7);
    set(base - 60_000);

    const next = clock.stampFor(7);

    expect(next > ahead).toBe(true);
  });

  it('never stamps behind the service clock', () => {
    const { clock, set } = clockAt(base);
    // Both clocks agree. The service wrote its header at 15:00:00.900, so it reads 15:00:00
    // and the midpoint estimate of the offset is 400 ms behind.
    clock.observe('Fri, 04 Dec 2026 15:00:00 GMT', base + 890, base + 910);
    set(base + 910);

    const stamp = parseMicroseconds(clock.stampFor(3))!;

    expect(clock.offsetMs()).toBeLessThan(-300);
    expect(stamp).toBeGreaterThanOrEqual((base + 910) * 1000);
  });

  it('orders new stamps after a replayed one', () => {
    const { clock } = clockAt(base);
    clock.noteStamp(9, '2026-12-04T15:00:05.000000+00:00');

    expect(clock.stampFor(9)).toBe('2026-12-04T15:00:05.000001+00:00');
  });

  it('keeps jobs apart and forgets ended ones', () => {
    const { clock } = clockAt(base);
    clock.stampFor(1);
    const other = clock.stampFor(2);
    clock.forgetJob(1);

    expect(other).toBe('2026-12-04T15:00:00.000000+00:00');
    expect(clock.stampFor(1)).toBe('2026-12-04T15:00:00.000000+00:00');
  });
});

describe('timestamp helpers', () => {
  it('formats microseconds with an offset', () => {
    expect(formatMicroseconds(base * 1000 + 123_456)).toBe('2026-12-04T15:00:00.123456+00:00');
  });

  it('accepts only zoned timestamps', () => {
    expect(hasTimezone('2026-12-04T15:00:00.123456+00:00')).toBe(true);
    expect(hasTimezone('2026-12-04T15:00:00Z')).toBe(true);
    expect(hasTimezone('2026-12-04T16:00:00+0100')).toBe(true);
    expect(hasTimezone('2026-12-04T15:00:00.123456')).toBe(false);
  });

  it('parses offsets with and without a colon', () => {
    const expected = base * 1000 + 500_000;

    expect(parseMicroseconds('2026-12-04T16:00:00.5+01:00')).toBe(expected);
    expect(parseMicroseconds('2026-12-04T16:00:00.5+0100')).toBe(expected);
    expect(parseMicroseconds('2026-12-04T15:00:00.500000Z')).toBe(expected);
  });
});
