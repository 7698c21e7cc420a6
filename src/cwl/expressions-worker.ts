/**
 * The program of the worker thread that runs CWL JavaScript expressions. The host starts it
 * from the source text of {@link expressionWorkerMain}, so the function must not use anything
 * from this module's scope: it loads what it needs with `require` inside the worker.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the function body runs as a CommonJS script in the worker */

/** A request from the host: evaluate one expression. */
export interface WorkerRequest {
  /** Identifies the expressionLib; '' for none. */
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

/** How an evaluation ended; `detail` is JSON text for `ok`, a description otherwise. */
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
   * Element 0 is set to 1 and notified once a response was posted; element 1 once the worker
   * listens for requests.
   */
  signal: Int32Array;
  prepareSource: string;
  hardenSource: string;
}

/**
 * Serves requests on `workerData.port`. Each distinct expressionLib gets its own vm context,
 * kept for later requests. Promise rejections nobody handles stay inside this thread.
 */
export function expressionWorkerMain(): void {
  const vm = require('node:vm') as typeof import('node:vm');
  const { types } = require('node:util') as typeof import('node:util');
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const { port, signal, prepareSource, hardenSource } = threads.workerData as WorkerData;

  interface Sandbox {
    context: import('node:vm').Context;
    globals: Record<string, unknown>;
    compiled: Map<string, unknown>;
  }
  const MAX_SANDBOXES = 8;
  const MAX_COMPILED_PER_SANDBOX = 2000;
  const MAX_LIBRARIES = 64;
  const sandboxes = new Map<string, Sandbox>();
  const libraries = new Map<string, string[]>();
  const runScript = new vm.Script('__cwlRun(__cwlFn)', { filename: 'cwl-expression-runner' });

  class RequestFailure extends Error {
    constructor(readonly response: WorkerResponse) {
      super(response.detail);
    }
  }

  function readOwnString(value: unknown, key: string): string | undefined {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      return undefined;
    }
    // Errors can come from the context: read data properties only, so no getter or Proxy trap
    // runs outside the time limit.
    if (types.isProxy(value)) return undefined;
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return typeof descriptor?.value === 'string' ? descriptor.value : undefined;
  }

  function describe(error: unknown): string {
    const message = readOwnString(error, 'message') ?? 'unknown error';
    const name = readOwnString(error, 'name');
    return name === undefined ? message : `${name}: ${message}`;
  }

  function isTimeout(error: unknown): boolean {
    return readOwnString(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
  }

  function createSandbox(expressionLib: string[], timeoutMs: number): Sandbox {
    // A null-prototype object behind the global: with a plain `{}`, `this.constructor` inside
    // the context would be this realm's Object, and its constructor a Function that sees
    // `process`.
    const globals = Object.create(null) as Record<string, unknown>;
    const context = vm.createContext(globals, {
      name: 'cwl-expressions',
      codeGeneration: { strings: true, wasm: false },
      // Promise callbacks then run before runInContext returns, inside the time limit.
      microtaskMode: 'afterEvaluate',
    });
    vm.runInContext(prepareSource, context);

    expressionLib.forEach((entry, index) => {
      let script: import('node:vm').Script;
      try {
        script = new vm.Script(`'use strict';\n${entry}`, { filename: `expressionLib[${index}]` });
      } catch (error) {
        const detail = `SyntaxError: ${describe(error)}`;
        throw new RequestFailure({ outcome: 'library-syntax', detail, libraryIndex: index });
      }
      try {
        script.runInContext(context, { timeout: timeoutMs });
      } catch (error) {
        const outcome = isTimeout(error) ? 'library-timeout' : 'library-threw';
        throw new RequestFailure({ outcome, detail: describe(error), libraryIndex: index });
      }
    });

    try {
      vm.runInContext(hardenSource, context, { filename: 'cwl-sandbox', timeout: timeoutMs });
    } catch (error) {
      const outcome = isTimeout(error) ? 'library-timeout' : 'library-threw';
      throw new RequestFailure({ outcome, detail: describe(error) });
    }
    return { context, globals, compiled: new Map() };
  }

  function getSandbox(key: string, timeoutMs: number): Sandbox {
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
    if (sandboxes.size >= MAX_SANDBOXES) sandboxes.delete(sandboxes.keys().next().value as string);
    sandboxes.set(key, sandbox);
    return sandbox;
  }

  function compile(sandbox: Sandbox, code: string, isFunctionBody: boolean): unknown {
    const cacheKey = (isFunctionBody ? '{' : '(') + code;
    const cached = sandbox.compiled.get(cacheKey);
    if (cached !== undefined) return cached;

    // compileFunction parses a function body, so code cannot close the function and run
    // statements at the top level of the script. The newline keeps a trailing `// comment`
    // from swallowing the closing parenthesis.
    const body = isFunctionBody ? `'use strict';${code}\n` : `'use strict';return (${code}\n);`;
    let fn: unknown;
    try {
      fn = vm.compileFunction(body, [], { parsingContext: sandbox.context });
    } catch (error) {
      throw new RequestFailure({ outcome: 'syntax', detail: `SyntaxError: ${describe(error)}` });
    }
    if (sandbox.compiled.size >= MAX_COMPILED_PER_SANDBOX) sandbox.compiled.clear();
    sandbox.compiled.set(cacheKey, fn);
    return fn;
  }

  function evaluate(request: WorkerRequest): WorkerResponse {
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
    let output: unknown;
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

  function answer(response: WorkerResponse): void {
    port.postMessage(response);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  }

  port.on('message', (request: WorkerRequest) => {
    try {
      answer(evaluate(request));
    } catch (error) {
      if (error instanceof RequestFailure) answer(error.response);
      else answer({ outcome: 'threw', detail: describe(error) });
    }
  });

  // A promise an expression rejected without a handler must not end this thread, and it
  // changes no result: the expression already returned.
  process.on('unhandledRejection', () => undefined);

  Atomics.store(signal, 1, 1);
  Atomics.notify(signal, 1);
}
