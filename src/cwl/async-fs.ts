/**
 * Promise versions of the node:fs calls that the CWL engine makes, built on the callback API.
 * node:fs/promises loads about twenty more built-in modules (readline among them), which took
 * about 0.7 ms here: a share of every short `exec` run that these wrappers avoid.
 *
 * A command that runs one document can switch them to blocking calls (useBlockingCalls). A
 * file-system call on libuv's thread pool costs a round trip of about 0.1 ms here, while a
 * blocking one takes microseconds, and such a command has nothing else to do meanwhile.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';

let blocking = false;

/**
 * Makes every call below, except `cp`, run as a blocking call and return a settled promise. For
 * a process that runs one document; a pilot keeps the thread pool, so that jobs do not wait for
 * each other's file-system calls.
 */
export function useBlockingCalls(): void {
  blocking = true;
}

/**
 * Returns `callbackVersion`, or once useBlockingCalls was called `blockingVersion`, which takes
 * the same arguments and returns what the promise would resolve to.
 */
function either<F extends (...args: never[]) => Promise<unknown>>(
  callbackVersion: F,
  blockingVersion: (...args: never[]) => unknown,
): F {
  return ((...args: Parameters<F>) => {
    if (!blocking) return callbackVersion(...args);
    try {
      return Promise.resolve(blockingVersion(...args));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }) as F;
}

/** Copies a file or folder; always on the thread pool, since a copy can be large. */
export const cp = promisify(fs.cp) as (
  source: string,
  destination: string,
  options?: fs.CopyOptions,
) => Promise<void>;
export const lstat = either(promisify(fs.lstat), fs.lstatSync);
export const mkdir = either(promisify(fs.mkdir), fs.mkdirSync);
export const mkdtemp = either(promisify(fs.mkdtemp), fs.mkdtempSync);
export const readdir = either(promisify(fs.readdir), fs.readdirSync);
export const readFile = either(promisify(fs.readFile), fs.readFileSync);
export const readlink = either(promisify(fs.readlink), fs.readlinkSync);
/** The system's realpath(3), as in node:fs/promises, not the JavaScript walk of fs.realpath. */
export const realpath = either(promisify(fs.realpath.native), fs.realpathSync.native);
export const rename = either(promisify(fs.rename), fs.renameSync);
export const rm = either(promisify(fs.rm), fs.rmSync);
export const rmdir = either(promisify(fs.rmdir), fs.rmdirSync);
export const stat = either(promisify(fs.stat), fs.statSync);
export const symlink = either(promisify(fs.symlink), fs.symlinkSync);
export const writeFile = either(promisify(fs.writeFile), fs.writeFileSync);
/** Opens a file and returns its descriptor; close it with {@link close}. */
export const open = either(promisify(fs.open), fs.openSync);
export const close = either(promisify(fs.close), fs.closeSync);
export const read = either(
  promisify(fs.read),
  (
    fd: number,
    buffer: NodeJS.ArrayBufferView,
    offset: number,
    length: number,
    position: number,
  ) => ({
    bytesRead: fs.readSync(fd, buffer, offset, length, position),
    buffer,
  }),
);
