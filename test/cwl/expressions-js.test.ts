import { afterAll, describe, expect, it } from 'vitest';
import { startExpressionWorker, stopExpressionWorker } from '../../src/cwl/expressions-js.js';
import { describeExpressionCases, run, thrown } from './expression-cases.js';

afterAll(async () => {
  await stopExpressionWorker();
});

describeExpressionCases();

describe('time limit in the worker', () => {
  it('stops an allocation that outgrows the worker heap', () => {
    const text = '${ var chunks = []; while (true) { chunks.push(new Array(1e6).fill(1)); } }';
    const error = thrown(() => run(text, { timeoutMs: 10_000 }));
    expect(error.code).toBe('CWL_EXPRESSION_TIMEOUT');
    expect(error.message).toContain('heap limit');
  }, 20_000);

  it('evaluates again after the worker was replaced', () => {
    expect(run('$(inputs.count * 3)')).toBe(9);
  });
});

describe('early worker start', () => {
  it('isolates the prebuilt context', async () => {
    await stopExpressionWorker();
    startExpressionWorker();
    // A second call while the first worker starts must not start another one.
    startExpressionWorker();
    // Let the worker start and build its context for documents without expressionLib.
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(run('${ globalThis.leaked = inputs.count; return leaked; }')).toBe(3);
    expect(run('$(typeof leaked)')).toBe('undefined');
    expect(run('$(Object.isFrozen(Array.prototype))')).toBe(true);
    expect(
      run('$(triple(inputs.count))', { expressionLib: ['function triple(x) { return 3 * x; }'] }),
    ).toBe(9);
  });

  it('serves a request during start-up', async () => {
    await stopExpressionWorker();
    startExpressionWorker();
    expect(run('$(inputs.bands.length)')).toBe(3);
  });
});
