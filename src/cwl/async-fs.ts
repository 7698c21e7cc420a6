/**
 * Promise versions of the node:fs calls that the CWL engine makes, built on the callback API.
 * node:fs/promises loads about twenty more built-in modules (readline among them), which took
 * about 0.7 ms here: a share of every short `exec` run that these wrappers avoid.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';

export const cp = promisify(fs.cp) as (
  source: string,
  destination: string,
  options?: fs.CopyOptions,
) => Promise<void>;
export const lstat = promisify(fs.lstat);
export const mkdir = promisify(fs.mkdir);
export const mkdtemp = promisify(fs.mkdtemp);
export const readdir = promisify(fs.readdir);
export const readFile = promisify(fs.readFile);
export const readlink = promisify(fs.readlink);
/** The system's realpath(3), as in node:fs/promises, not the JavaScript walk of fs.realpath. */
export const realpath = promisify(fs.realpath.native);
export const rename = promisify(fs.rename);
export const rm = promisify(fs.rm);
export const stat = promisify(fs.stat);
export const symlink = promisify(fs.symlink);
export const writeFile = promisify(fs.writeFile);
/** Opens a file and returns its descriptor; close it with {@link close}. */
export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const read = promisify(fs.read);
