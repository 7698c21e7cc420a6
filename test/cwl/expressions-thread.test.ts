/**
 * Expressions evaluated in the calling thread, as `ctao-pilot exec` runs them. Vitest gives each
 * test file its own module instances, so the switch below leaves the worker tests alone.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runExpressionsInThisThread } from '../../src/cwl/expressions-js.js';
import { describeExpressionCases, run, thrown } from './expression-cases.js';

runExpressionsInThisThread();

describeExpressionCases();

describe('expressions in this thread', () => {
  it('names only the time limit', () => {
    const error = thrown(() => run('${ while (true) {} }', { timeoutMs: 200 }));
    expect(error.code).toBe('CWL_EXPRESSION_TIMEOUT');
    expect(error.message).toContain('timed out after 200 ms');
    expect(error.message).not.toContain('heap');
  });

  it('keeps host rejections fatal', () => {
    // A child process, because the rejection must end the process it happens in.
    const module = fileURLToPath(new URL('../../src/cwl/expressions-js.ts', import.meta.url));
    const script = [
      `const { runExpressionsInThisThread, runJavaScript } = await import(${JSON.stringify(module)});`,
      'runExpressionsInThisThread();',
      'const root = { inputs: {}, self: null, runtime: {} };',
      "console.log(runJavaScript('$(x)', 'Promise.reject(1), 2', false, root, [], 1000));",
      "Promise.reject(new Error('host bug'));",
    ].join('\n');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(result.stdout.trim()).toBe('2');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('host bug');
  });
});
