/**
 * The evaluator of CWL JavaScript expressions, the worker thread program that runs it, and the
 * messages they exchange with the host.
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
  /**
   * Time limit of loading the expressionLib, in milliseconds, and of the expression itself
   * where the evaluator enforces it.
   */
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
    | 'library-syntax'
    | 'timeout';
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
  /** {@link EVALUATOR_SOURCE}. */
  evaluatorSource: string;
}

/** The object the evaluator source returns: one evaluator with its own contexts. */
export interface Evaluator {
  /** Evaluates one request. Failures come back as outcomes, never as exceptions. */
  respond(request: WorkerRequest): WorkerResponse;
  /** Builds the context for documents without expressionLib ahead of their first request. */
  prepareEmptyLibrary(): void;
}

/** Signature of the function expression in {@link EVALUATOR_SOURCE}. */
export type EvaluatorFactory = (
  vm: typeof import('node:vm'),
  types: typeof import('node:util').types,
  prepareSource: string,
  hardenSource: string,
  /** True when the caller cannot stop a runaway expression itself, as the worker's host can. */
  enforceTimeout: boolean,
) => Evaluator;

/**
 * Source of the evaluator: one function expression, an {@link EvaluatorFactory}. It is kept as
 * text, not as a function turned into text, because bundlers rewrite function bodies (helper
 * calls for kept names, `require` renamed) in ways a worker could not resolve.
 *
 * Each distinct expressionLib gets its own vm context, kept for later requests (at most 8,
 * least recently used first out).
 */
export const EVALUATOR_SOURCE = String.raw`
(function (vm, types, prepareSource, hardenSource, enforceTimeout) {
'use strict';
const MAX_SANDBOXES = 8;
const MAX_COMPILED_PER_SANDBOX = 2000;
const MAX_LIBRARIES = 64;
const sandboxes = new Map();
const libraries = new Map();
const runScript = new vm.Script('__cwlRun(__cwlFn)', { filename: 'cwl-expression-runner' });

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
  // Without an expressionLib, hardening meets only built-ins and ends. A time limit would
  // start the watchdog thread, which took about 0.3 ms here.
  const hardenOptions = expressionLib.length === 0
    ? { filename: 'cwl-sandbox' }
    : { filename: 'cwl-sandbox', timeout: timeoutMs };
  try {
    vm.runInContext(hardenSource, context, hardenOptions);
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
  // In a worker, no vm timeout: starting its watchdog costs about 50 microseconds per run, so
  // the host enforces the time limit instead by ending the thread.
  const options = enforceTimeout ? { timeout: request.timeoutMs } : undefined;
  let output;
  try {
    output = runScript.runInContext(sandbox.context, options);
  } catch (error) {
    // The context may have stopped half way through its own bookkeeping: drop it.
    sandboxes.delete(key);
    if (isTimeout(error)) return { outcome: 'timeout', detail: String(request.timeoutMs) };
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

function respond(request) {
  try {
    return evaluate(request);
  } catch (error) {
    if (error instanceof RequestFailure) return error.response;
    return { outcome: 'threw', detail: describe(error) };
  }
}

function prepareEmptyLibrary() {
  try {
    // Without an expressionLib no time limit applies, so the one passed here is never used.
    getSandbox('', 0);
  } catch (error) {
    // Nothing was stored, so the first request builds the context again and reports the error.
  }
}

return { respond, prepareEmptyLibrary };
})`;

/**
 * Source of the worker program, a CommonJS script run with `eval: true`. It serves one request
 * at a time on `workerData.port`. Promise rejections without a handler stay inside the thread.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const vm = require('node:vm');
const { types } = require('node:util');
const { workerData } = require('node:worker_threads');
const { port, signal, prepareSource, hardenSource } = workerData;
let evaluator;

try {
  const factory = vm.runInThisContext(workerData.evaluatorSource, { filename: 'cwl-evaluator' });
  evaluator = factory(vm, types, prepareSource, hardenSource, false);
  port.on('message', function (request) {
    port.postMessage(evaluator.respond(request));
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
  // A promise an expression rejected without a handler must not end this thread, and it
  // changes no result: the expression already returned.
  process.on('unhandledRejection', function () {});
  Atomics.store(signal, 1, 1);
} catch (error) {
  port.postMessage({ outcome: 'threw', detail: String(error && error.message) });
  Atomics.store(signal, 1, -1);
}
Atomics.notify(signal, 1);

// Most documents have no expressionLib. Building their context now, before the first request
// arrives, takes it off the path of the first expression.
if (evaluator !== undefined) evaluator.prepareEmptyLibrary();
`;
