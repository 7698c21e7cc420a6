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

/**
 * `node:crypto`, for checksums and random names. A run of one tool may need it only for the
 * checksums of its outputs, so it can be loaded while the tool runs (see preloadCrypto).
 */
export function nodeCrypto(): typeof import('node:crypto') {
  return requireBuiltin('node:crypto') as typeof import('node:crypto');
}

/** Loads `node:crypto` now, so that a later first use does not wait for it. */
export function preloadCrypto(): void {
  nodeCrypto();
}
