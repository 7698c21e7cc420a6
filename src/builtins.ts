/**
 * Node built-in modules that are loaded at their first use instead of at start-up. Loading a
 * built-in that Node's start-up snapshot lacks takes up to 2 ms, which matters to a short
 * `exec` run that never needs it.
 */
import { createRequire } from 'node:module';

// A built-in resolves the same from anywhere; the base only has to be an absolute path.
const requireBuiltin = createRequire('/');

/** `node:worker_threads`, which only the pilot's expression worker needs. */
export function workerThreads(): typeof import('node:worker_threads') {
  return requireBuiltin('node:worker_threads') as typeof import('node:worker_threads');
}
