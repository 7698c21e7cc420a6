/**
 * Standard output and error of a short command without `process.stdout` and `process.stderr`.
 * Node creates those streams on first use, and on a pipe that loads the network stack, which
 * took about a millisecond here: a noticeable share of a short `exec` run.
 */
import { fstatSync, writeSync } from 'node:fs';

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
  const stream = fd === 1 ? process.stdout : process.stderr;
  return stream.isTTY === true;
}

/**
 * Writes `text` to standard output with blocking calls. When the descriptor is non-blocking and
 * its pipe is full (EAGAIN), the rest goes through `process.stdout`, which waits for room.
 */
export function writeStandardOutput(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(written));
  }
}
