// A small process that starts commands for the benchmark and times them.
//
// Starting a process costs its parent time in proportion to the parent's memory, because fork
// copies the page tables: about 2 ms per 100 MB measured here. The benchmark's own process
// keeps its TypeScript loader and results in memory, so commands are started from this small
// process instead. It reads one JSON request per line on standard input and writes one JSON
// result per line on standard output, in the order the commands finish.
//
// Request: {id, command: [program, ...args], cwd, timeoutSeconds, stderrBytes}. A command past
// its time limit gets SIGTERM, and SIGKILL 5 s later, sent to its whole process group.
// Result: {id, exitCode, signal, stdout, stderr, seconds, startError?, timedOut}.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const KILL_GRACE_MS = 5_000;
const running = new Set();

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== '') start(JSON.parse(line));
});
process.stdin.on('end', () => {
  for (const pid of running) killGroup(pid, 'SIGKILL');
});

function start(request) {
  const [program, ...args] = request.command;
  const started = process.hrtime.bigint();
  const child = spawn(program, args, {
    cwd: request.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = [];
  let stderr = Buffer.alloc(0);
  child.stdout.on('data', (chunk) => stdout.push(chunk));
  child.stderr.on('data', (chunk) => {
    stderr = Buffer.concat([stderr, chunk]).subarray(-request.stderrBytes);
  });
  if (child.pid !== undefined) running.add(child.pid);

  let timedOut = false;
  const timers = [
    setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS));
    }, request.timeoutSeconds * 1000),
  ];

  let finished = false;
  const finish = (exitCode, signal, error) => {
    // A program that cannot start emits 'error' and may emit 'close' as well.
    if (finished) return;
    finished = true;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    timers.forEach(clearTimeout);
    running.delete(child.pid);
    const result = {
      id: request.id,
      exitCode,
      signal,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: stderr.toString('utf8'),
      seconds,
      timedOut,
    };
    if (error !== undefined) result.startError = error.message;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  };
  child.on('error', (error) => finish(null, null, error));
  child.on('close', (exitCode, signal) => finish(exitCode, signal));
}

function killGroup(pid, signal) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has gone already.
  }
}
