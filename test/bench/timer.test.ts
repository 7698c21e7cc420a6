import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecuteOptions } from '../conformance/execute.js';
import { Timer } from './timer.js';

const timer = new Timer();

afterAll(() => {
  timer.close();
});

function options(timeoutSeconds = 30): ExecuteOptions {
  return { suiteDir: tmpdir(), runner: [], timeoutSeconds };
}

describe('Timer', () => {
  it('reports exit, output and time', async () => {
    const script = "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)";
    const result = await timer.launch([process.execPath, '-e', script], options());
    expect(result.outcome.exitCode).toBe(3);
    expect(result.outcome.stdout).toBe('out');
    expect(result.stderr).toBe('err');
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThan(30);
  });

  it('runs in the suite folder', async () => {
    const result = await timer.launch(['pwd'], options());
    expect(result.outcome.stdout.trim()).toBe(tmpdir());
  });

  it('stops a command at its limit', async () => {
    const result = await timer.launch(['sleep', '30'], options(0.3));
    expect(result.outcome.timedOutAfterSeconds).toBe(0.3);
    expect(result.outcome.signal).toBe('SIGTERM');
  });

  it('reports a missing program', async () => {
    const result = await timer.launch(['/nonexistent/runner'], options());
    expect(result.outcome.startError).toContain('ENOENT');
  });

  it('runs concurrent commands', async () => {
    const [slow, fast] = await Promise.all([
      timer.launch(['sh', '-c', 'sleep 0.3; echo slow'], options()),
      timer.launch(['sh', '-c', 'echo fast'], options()),
    ]);
    expect(slow.outcome.stdout).toBe('slow\n');
    expect(fast.outcome.stdout).toBe('fast\n');
    expect(fast.seconds).toBeLessThan(slow.seconds);
  });
});
