import { describe, expect, it } from 'vitest';
import { runBenchmark } from '../../src/probe/index.js';

describe('runBenchmark', () => {
  it('runs for its CPU budget', () => {
    const result = runBenchmark(100);
    expect(result.cpuSeconds).toBeGreaterThanOrEqual(0.1);
    expect(result.cpuSeconds).toBeLessThan(2);
    expect(result.drawsPerCpuSecond).toBeGreaterThan(0);
    expect(result.score).toBeGreaterThan(0);
  });

  it('scales the score with the draw rate', () => {
    const result = runBenchmark(100);
    // score = 250 / (12.5e6 * 10.3 / rate), rounded to two decimals.
    const expected = (250 * result.drawsPerCpuSecond) / (12_500_000 * 10.3);
    expect(Math.abs(result.score - expected)).toBeLessThan(0.01);
  });
});
