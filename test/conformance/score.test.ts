import { describe, expect, it } from 'vitest';
import { scoreRun, type RunOutcome } from './score.js';
import type { ConformanceTest } from './suite.js';

function makeTest(fields: Partial<ConformanceTest> = {}): ConformanceTest {
  return { id: 't', doc: '', tags: ['command_line_tool'], tool: 't.cwl', output: {}, ...fields };
}

function exited(exitCode: number | null, stdout = '', extra: Partial<RunOutcome> = {}): RunOutcome {
  return { exitCode, signal: exitCode === null ? 'SIGKILL' : null, stdout, ...extra };
}

describe('scoreRun exit codes', () => {
  it('marks exit 33 unsupported without required', () => {
    expect(scoreRun(makeTest(), exited(33)).status).toBe('unsupported');
  });

  it('fails exit 33 on a required test', () => {
    const verdict = scoreRun(makeTest({ tags: ['required'] }), exited(33));
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('required');
  });

  it('marks exit 33 unsupported on should_fail', () => {
    expect(scoreRun(makeTest({ should_fail: true }), exited(33)).status).toBe('unsupported');
  });

  it('passes exit 33 on a required should_fail test', () => {
    const test = makeTest({ should_fail: true, tags: ['required'] });
    expect(scoreRun(test, exited(33)).status).toBe('passed');
  });

  it('passes should_fail on a non-zero exit', () => {
    expect(scoreRun(makeTest({ should_fail: true }), exited(1)).status).toBe('passed');
  });

  it('passes should_fail when a signal ends the run', () => {
    expect(scoreRun(makeTest({ should_fail: true }), exited(null)).status).toBe('passed');
  });

  it('fails should_fail on exit 0', () => {
    const verdict = scoreRun(makeTest({ should_fail: true }), exited(0, '{}'));
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('expects a failure');
  });

  it('fails a non-zero exit', () => {
    const verdict = scoreRun(makeTest(), exited(2));
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('code 2');
  });

  it('names the signal that ended the run', () => {
    expect(scoreRun(makeTest(), exited(null)).reason).toContain('SIGKILL');
  });
});

describe('scoreRun failures before output', () => {
  it('fails a timeout even for should_fail', () => {
    const outcome = exited(null, '', { timedOutAfterSeconds: 5 });
    const verdict = scoreRun(makeTest({ should_fail: true }), outcome);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toBe('timed out after 5 s');
  });

  it('fails a runner that did not start', () => {
    const outcome = exited(null, '', { startError: 'spawn nothing ENOENT' });
    const verdict = scoreRun(makeTest({ should_fail: true }), outcome);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('ENOENT');
  });
});

describe('scoreRun output', () => {
  it('treats empty stdout as an empty object', () => {
    expect(scoreRun(makeTest({ output: {} }), exited(0, ' \n')).status).toBe('passed');
  });

  it('fails stdout that is not JSON', () => {
    const verdict = scoreRun(makeTest(), exited(0, 'done\n'));
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('not valid JSON');
  });

  it('passes a matching output', () => {
    const test = makeTest({ output: { n: 1 } });
    expect(scoreRun(test, exited(0, '{"n": 1.0, "extra": null}')).status).toBe('passed');
  });

  it('fails a mismatch with its path', () => {
    const verdict = scoreRun(makeTest({ output: { n: [1, 2] } }), exited(0, '{"n": [1, 3]}'));
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('$.n[1]');
  });

  it('fails an empty object for missing output', () => {
    const test = makeTest();
    delete test.output;
    expect(scoreRun(test, exited(0, '{}')).status).toBe('failed');
  });
});
