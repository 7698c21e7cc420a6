/**
 * Node built-in modules that are loaded at their first use instead of at start-up. Loading a
 * built-in that Node's start-up snapshot lacks takes up to 2 ms, which matters to a short
 * `exec` run that never needs it.
 */

/**
 * Loads a built-in module. The bundle is CommonJS, so Node's `require` is there, and node:module
 * (about 0.4 ms to load) is not needed for createRequire. Where this file runs as an ES module,
 * as under the test runner, process.getBuiltinModule (Node.js 20.16 and newer) loads it.
 */
function requireBuiltin(id: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return typeof require === 'function' ? require(id) : process.getBuiltinModule(id);
}

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

/**
 * Loads `node:crypto` now, so that a later first use does not wait for it. The first SHA-1 hash
 * also sets up OpenSSL's digest, which took about 1 ms here, so one is made and dropped.
 */
export function preloadCrypto(): void {
  nodeCrypto().createHash('sha1');
}
