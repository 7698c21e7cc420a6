/**
 * The program of the worker thread that runs CWL JavaScript expressions, and the messages it
 * exchanges with the host.
 */

/** A request from the host: evaluate one expression. */
export interface WorkerRequest {
  /** Digest of the expressionLib, or '' when there is none. */
  libraryKey: string;
  /** The expressionLib entries, sent only while the worker does not know `libraryKey`. */
  expressionLib?: string[];
  /** The code inside `$(...)` or `${...}`. */
  code: string;
  isFunctionBody: boolean;
  /** JSON text of `{inputs, self, runtime}`. */
  input: string;
  /** Time limit of loading the expressionLib, in milliseconds. */
  timeoutMs: number;
}

/** Outcome of one evaluation: `detail` is the result's JSON text for `ok`, else a description. */
export interface WorkerResponse {
  outcome:
    | 'ok'
    | 'threw'
    | 'not-json'
    | 'syntax'
    | 'unknown-library'
    | 'library-threw'
    | 'library-timeout'
    | 'library-syntax';
  detail: string;
  /** Index of the expressionLib entry, for the `library-*` outcomes. */
  libraryIndex?: number;
}

/** Data the host passes to the worker when it starts it. */
export interface WorkerData {
  port: import('node:worker_threads').MessagePort;
  /**
   * Element 0 is set to 1 and notified once a response was posted. Element 1 is set to 1 once
   * the worker listens for requests, or to -1 when it failed to start and posted the reason.
   */
  signal: Int32Array;
  prepareSource: string;
  hardenSource: string;
}

/**
 * Source of the worker program, a CommonJS script run with `eval: true`. It is kept as text,
 * not as a function turned into text, because bundlers rewrite function bodies (helper calls
 * for kept names, `require` renamed) in ways the worker could not resolve.
 *
 * The program serves one request at a time on `workerData.port`. Each distinct expressionLib
 * gets its own vm context, kept for later requests (at most 8, least recently used first
 * out). Promise rejections without a handler stay inside this thread.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const vm = require('node:vm');
const { types } = require('node:util');
const { workerData } = require('node:worker_threads');
const { port, signal, prepareSource, hardenSource } = workerData;

const MAX_SANDBOXES = 8;
const MAX_COMPILED_PER_SANDBOX = 2000;
const MAX_LIBRARIES = 64;
// Limit for hardening a context that runs no expressionLib code.
const EMPTY_LIBRARY_TIMEOUT_MS = 10000;
const sandboxes = new Map();
const libraries = new Map();
let runScript;

class RequestFailure extends Error {
  constructor(response) {
    super(response.detail);
    this.response = response;
  }
}

// Errors can come from a context: this reads data properties only, so no getter or Proxy
// trap runs outside the time limit.
function readOwnString(value, key) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return undefined;
  }
  if (types.isProxy(value)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  return descriptor !== undefined && typeof descriptor.value === 'string'
    ? descriptor.value
    : undefined;
}

function describe(error) {
  const message = readOwnString(error, 'message');
  const name = readOwnString(error, 'name');
  const text = message === undefined ? 'unknown error' : message;
  return name === undefined ? text : name + ': ' + text;
}

function isTimeout(error) {
  return readOwnString(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function loadLibrary(context, expressionLib, timeoutMs) {
  expressionLib.forEach(function (entry, index) {
    let script;
    try {
      script = new vm.Script("'use strict';\n" + entry, { filename: 'expressionLib[' + index + ']' });
    } catch (error) {
      const detail = 'SyntaxError: ' + describe(error);
      throw new RequestFailure({ outcome: 'library-syntax', detail, libraryIndex: index });
    }
    try {
      script.runInContext(context, { timeout: timeoutMs });
    } catch (error) {
      const outcome = isTimeout(error) ? 'library-timeout' : 'library-threw';
      throw new RequestFailure({ outcome, detail: describe(error), libraryIndex: index });
    }
  });
}

function createSandbox(expressionLib, timeoutMs) {
  // A null-prototype object behind the global: with a plain {}, this.constructor inside the
  // context would be this realm's Object, and its constructor a Function that can reach process.
  const globals = Object.create(null);
  const context = vm.createContext(globals, {
    name: 'cwl-expressions',
    codeGeneration: { strings: true, wasm: false },
    // Promise callbacks then run before runInContext returns.
    microtaskMode: 'afterEvaluate',
  });
  vm.runInContext(prepareSource, context);
  loadLibrary(context, expressionLib, timeoutMs);
  try {
    vm.runInContext(hardenSource, context, { filename: 'cwl-sandbox', timeout: timeoutMs });
  } catch (error) {
    const outcome = isTimeout(error) ? 'library-timeout' : 'library-threw';
    throw new RequestFailure({ outcome, detail: describe(error) });
  }
  return { context, globals, compiled: new Map() };
}

function getSandbox(key, timeoutMs) {
  const cached = sandboxes.get(key);
  if (cached !== undefined) {
    // Map order is insertion order: moving the entry to the end makes eviction LRU.
    sandboxes.delete(key);
    sandboxes.set(key, cached);
    return cached;
  }
  const expressionLib = key === '' ? [] : libraries.get(key);
  if (expressionLib === undefined) {
    throw new RequestFailure({ outcome: 'unknown-library', detail: key });
  }
  const sandbox = createSandbox(expressionLib, timeoutMs);
  if (sandboxes.size >= MAX_SANDBOXES) sandboxes.delete(sandboxes.keys().next().value);
  sandboxes.set(key, sandbox);
  return sandbox;
}

function compile(sandbox, code, isFunctionBody) {
  const cacheKey = (isFunctionBody ? '{' : '(') + code;
  const cached = sandbox.compiled.get(cacheKey);
  if (cached !== undefined) return cached;

  // compileFunction parses a function body, so code cannot close the function and run
  // statements at the top level of a script. The newline keeps a trailing line comment
  // from swallowing the closing parenthesis.
  const body = isFunctionBody
    ? "'use strict';" + code + '\n'
    : "'use strict';return (" + code + '\n);';
  let fn;
  try {
    fn = vm.compileFunction(body, [], { parsingContext: sandbox.context });
  } catch (error) {
    throw new RequestFailure({ outcome: 'syntax', detail: 'SyntaxError: ' + describe(error) });
  }
  if (sandbox.compiled.size >= MAX_COMPILED_PER_SANDBOX) sandbox.compiled.clear();
  sandbox.compiled.set(cacheKey, fn);
  return fn;
}

function evaluate(request) {
  const key = request.libraryKey;
  if (request.expressionLib !== undefined) {
    if (libraries.size >= MAX_LIBRARIES) libraries.clear();
    libraries.set(key, request.expressionLib);
  }
  const sandbox = getSandbox(key, request.timeoutMs);
  const fn = compile(sandbox, request.code, request.isFunctionBody);

  sandbox.globals.__cwlInput = request.input;
  sandbox.globals.__cwlFn = fn;
  // No vm timeout here: starting its watchdog costs about 50 microseconds per run, so the
  // host enforces the time limit instead by ending this thread.
  let output;
  try {
    output = runScript.runInContext(sandbox.context);
  } catch (error) {
    // The context may have stopped half way through its own bookkeeping: drop it.
    sandboxes.delete(key);
    return { outcome: 'threw', detail: describe(error) };
  } finally {
    sandbox.globals.__cwlFn = undefined;
  }

  let text = typeof output === 'string' ? output : '';
  if (text.startsWith('!')) {
    sandboxes.delete(key);
    text = text.slice(1);
  }
  if (text.startsWith('R')) return { outcome: 'ok', detail: text.slice(1) };
  if (text.startsWith('U')) return { outcome: 'not-json', detail: text.slice(1) };
  if (text.startsWith('E')) return { outcome: 'threw', detail: text.slice(1) };
  return { outcome: 'threw', detail: 'the sandbox runner returned no result' };
}

function answer(response) {
  port.postMessage(response);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function serve(request) {
  try {
    answer(evaluate(request));
  } catch (error) {
    if (error instanceof RequestFailure) answer(error.response);
    else answer({ outcome: 'threw', detail: describe(error) });
  }
}

try {
  runScript = new vm.Script('__cwlRun(__cwlFn)', { filename: 'cwl-expression-runner' });
  port.on('message', serve);
  // A promise an expression rejected without a handler must not end this thread, and it
  // changes no result: the expression already returned.
  process.on('unhandledRejection', function () {});
  Atomics.store(signal, 1, 1);
} catch (error) {
  port.postMessage({ outcome: 'threw', detail: describe(error) });
  Atomics.store(signal, 1, -1);
}
Atomics.notify(signal, 1);

// Most documents have no expressionLib. Building their context now, before the first request
// arrives, takes it off the path of the first expression. A failure here is met again, and
// reported, by that request.
if (Atomics.load(signal, 1) === 1) {
  try {
    getSandbox('', EMPTY_LIBRARY_TIMEOUT_MS);
  } catch (error) {
    // Nothing was stored, so the first request builds the context again.
  }
}
`;
