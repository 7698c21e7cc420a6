/**
 * Standard output and error of a short command, kept off `process.stdout` and `process.stderr`
 * where possible. Node creates those streams on first use, and on a pipe that loads the network
 * stack, which took about a millisecond here: a noticeable share of a short `exec` run. A run
 * that never created them can also end without waiting for their writes (see exitWhenDone).
 */
import { fstatSync, writeSync } from 'node:fs';
import { setExitCode } from './exit-code.js';

let streamsCreated = false;

/** Returns `process.stderr`, noting that the stream now exists. */
export function standardError(): NodeJS.WriteStream {
  streamsCreated = true;
  return process.stderr;
}

/** Returns `process.stdout`, noting that the stream now exists. */
export function standardOutput(): NodeJS.WriteStream {
  streamsCreated = true;
  return process.stdout;
}

/**
 * Returns whether descriptor `fd` is a terminal. Only a character device, such as a terminal or
 * /dev/null, can be one, so the stream and the terminal module behind it are created only then.
 */
export function isTerminal(fd: 1 | 2): boolean {
  let characterDevice: boolean;
  try {
    characterDevice = fstatSync(fd).isCharacterDevice();
  } catch {
    // A closed descriptor is not a terminal.
    return false;
  }
  if (!characterDevice) return false;
  const stream = fd === 1 ? standardOutput() : standardError();
  return stream.isTTY === true;
}

/**
 * Writes `text` to standard output with blocking calls. When the descriptor is non-blocking and
 * its pipe is full (EAGAIN), the rest goes through `process.stdout`, and the promise resolves
 * once the stream has written it.
 */
export async function writeStandardOutput(text: string): Promise<void> {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    const rest = bytes.subarray(written);
    await new Promise<void>((resolve, reject) => {
      standardOutput().write(rest, (failure) => (failure ? reject(failure) : resolve()));
    });
  }
}

/**
 * Sets the exit code to the number `outcome` resolves to, as setExitCode does. When neither
 * standard stream was created, no write can be pending, so the process exits at once: Node then
 * skips freeing the heap and its own state, which saved about a millisecond per run here.
 */
export function exitWhenDone(outcome: Promise<number>): void {
  setExitCode(
    outcome.then((code) => {
      if (!streamsCreated) process.exit(code);
      return code;
    }),
  );
}
