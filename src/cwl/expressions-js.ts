/**
 * Evaluation of CWL JavaScript expressions in `node:vm` contexts. A context is created once per
 * distinct expressionLib and reused: its built-ins are frozen after the expressionLib ran, and
 * every evaluation removes the globals earlier expressions added and copies the parameter
 * context in afresh, so expressions sharing a context do not see each other's changes.
 */
import { types } from 'node:util';
import vm from 'node:vm';
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import { HARDEN_SOURCE, PREPARE_SOURCE } from './expressions-sandbox.js';
import { EXPRESSION_INVALID, shortenText } from './expressions-scan.js';

/** Error code of an expression that threw, returned a non-JSON value or could not run. */
export const EXPRESSION_FAILED = 'CWL_EXPRESSION_FAILED';
/** Error code of an expression that ran longer than its time limit. */
export const EXPRESSION_TIMEOUT = 'CWL_EXPRESSION_TIMEOUT';

/** Parameter context copied into the sandbox: the globals `inputs`, `self` and `runtime`. */
export interface JavaScriptRoot {
  inputs: unknown;
  self: unknown;
  runtime: unknown;
}

interface Sandbox {
  context: vm.Context;
  /** The object behind the context's global; the host writes the per-run values here. */
  globals: Record<string, unknown>;
  compiled: Map<string, unknown>;
}

const MAX_SANDBOXES = 8;
const MAX_COMPILED_PER_SANDBOX = 2000;
const sandboxes = new Map<string, Sandbox>();
const RUN_SCRIPT = new vm.Script('__cwlRun(__cwlFn)', { filename: 'cwl-expression-runner' });

/**
 * Evaluates `code`, the inside of `$(...)` (an expression) or of `${...}` (a function body),
 * in strict mode with the parameter context as globals, and returns the result as a host
 * value that went through JSON.
 *
 * @throws CwlValidationError (`CWL_EXPRESSION_INVALID`) on a syntax error,
 *   CwlExecutionError (`CWL_EXPRESSION_TIMEOUT`) past `timeoutMs`, and
 *   CwlExecutionError (`CWL_EXPRESSION_FAILED`) when the code throws or returns no JSON value.
 */
export function runJavaScript(
  source: string,
  code: string,
  isFunctionBody: boolean,
  root: JavaScriptRoot,
  expressionLib: readonly string[],
  timeoutMs: number,
): unknown {
  const key = expressionLib.length === 0 ? '' : JSON.stringify(expressionLib);
  const sandbox = getSandbox(key, expressionLib, timeoutMs);
  const fn = compile(sandbox, source, code, isFunctionBody);

  sandbox.globals.__cwlInput = toJsonText(root);
  sandbox.globals.__cwlFn = fn;
  let output: unknown;
  try {
    output = RUN_SCRIPT.runInContext(sandbox.context, { timeout: timeoutMs });
  } catch (error) {
    // The context may have stopped half way through its own bookkeeping: start a new one.
    sandboxes.delete(key);
    throw runFailure(source, error, timeoutMs);
  } finally {
    sandbox.globals.__cwlFn = undefined;
  }
  return decodeOutput(source, output);
}

function getSandbox(key: string, expressionLib: readonly string[], timeoutMs: number): Sandbox {
  const cached = sandboxes.get(key);
  if (cached !== undefined) {
    // Map order is insertion order: moving the entry to the end keeps the eviction below LRU.
    sandboxes.delete(key);
    sandboxes.set(key, cached);
    return cached;
  }

  const sandbox = createSandbox(expressionLib, timeoutMs);
  if (sandboxes.size >= MAX_SANDBOXES) {
    const oldest = sandboxes.keys().next().value as string;
    sandboxes.delete(oldest);
  }
  sandboxes.set(key, sandbox);
  return sandbox;
}

function createSandbox(expressionLib: readonly string[], timeoutMs: number): Sandbox {
  // A null-prototype object behind the global: with a plain `{}`, `this.constructor` inside
  // the context would be the host's Object and its constructor the host's Function.
  const globals = Object.create(null) as Record<string, unknown>;
  const context = vm.createContext(globals, {
    name: 'cwl-expressions',
    codeGeneration: { strings: true, wasm: false },
    // Promise callbacks then run before runInContext returns, inside the time limit.
    microtaskMode: 'afterEvaluate',
  });
  vm.runInContext(PREPARE_SOURCE, context);

  expressionLib.forEach((entry, index) => {
    const filename = `expressionLib[${index}]`;
    try {
      vm.runInContext(`'use strict';\n${entry}`, context, { filename, timeout: timeoutMs });
    } catch (error) {
      throw libraryFailure(filename, entry, error, timeoutMs);
    }
  });

  try {
    vm.runInContext(HARDEN_SOURCE, context, { filename: 'cwl-sandbox', timeout: timeoutMs });
  } catch (error) {
    throw libraryFailure('(after loading)', expressionLib.join('\n'), error, timeoutMs);
  }
  return { context, globals, compiled: new Map() };
}

function compile(sandbox: Sandbox, source: string, code: string, isFunctionBody: boolean): unknown {
  const cacheKey = (isFunctionBody ? '{' : '(') + code;
  const cached = sandbox.compiled.get(cacheKey);
  if (cached !== undefined) return cached;

  // The newline keeps a trailing `// comment` in the code from swallowing the parenthesis.
  const body = isFunctionBody ? `'use strict';${code}\n` : `'use strict';return (${code}\n);`;
  let fn: unknown;
  try {
    fn = vm.compileFunction(body, [], {
      parsingContext: sandbox.context,
      filename: 'cwl-expression',
    });
  } catch (error) {
    throw new CwlValidationError(
      EXPRESSION_INVALID,
      `Expression ${quote(source)} is not valid JavaScript (${safeMessage(error)}): ` +
        'fix its syntax.',
    );
  }

  if (sandbox.compiled.size >= MAX_COMPILED_PER_SANDBOX) sandbox.compiled.clear();
  sandbox.compiled.set(cacheKey, fn);
  return fn;
}

/** Serialises the parameter context; bigint values become numbers, exact up to 2^53. */
function toJsonText(root: JavaScriptRoot): string {
  const value = { inputs: root.inputs, self: root.self ?? null, runtime: root.runtime };
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, (_key, item: unknown) =>
      typeof item === 'bigint' ? Number(item) : item,
    );
  }
}

function decodeOutput(source: string, output: unknown): unknown {
  const text = typeof output === 'string' ? output : '';
  const payload = text.slice(1);
  switch (text[0]) {
    case 'R':
      return JSON.parse(payload);
    case 'U':
      throw new CwlExecutionError(
        EXPRESSION_FAILED,
        `Expression ${quote(source)} returned ${payload === 'undefined' ? 'undefined' : `a ${payload}`}, ` +
          'which has no JSON form: return null, a boolean, number, string, array or object.',
      );
    case 'E':
      throw new CwlExecutionError(
        EXPRESSION_FAILED,
        `Expression ${quote(source)} failed: ${payload}`,
      );
    default:
      throw new CwlExecutionError(
        EXPRESSION_FAILED,
        `Expression ${quote(source)} did not return through the sandbox runner: ` +
          'keep the code inside one expression or function body.',
      );
  }
}

function runFailure(source: string, error: unknown, timeoutMs: number): CwlExecutionError {
  if (isTimeout(error)) {
    return new CwlExecutionError(
      EXPRESSION_TIMEOUT,
      `Expression ${quote(source)} timed out after ${timeoutMs} ms: ` +
        'make it finish sooner or raise the expression time limit.',
    );
  }
  return new CwlExecutionError(
    EXPRESSION_FAILED,
    `Expression ${quote(source)} failed: ${safeMessage(error)}`,
    { cause: error },
  );
}

function libraryFailure(
  filename: string,
  entry: string,
  error: unknown,
  timeoutMs: number,
): CwlExecutionError | CwlValidationError {
  const where = `InlineJavascriptRequirement ${filename} ${quote(entry)}`;
  if (isTimeout(error)) {
    return new CwlExecutionError(EXPRESSION_TIMEOUT, `${where} timed out after ${timeoutMs} ms.`);
  }
  if (safeName(error) === 'SyntaxError') {
    return new CwlValidationError(
      EXPRESSION_INVALID,
      `${where} is not valid JavaScript (${safeMessage(error)}): fix its syntax.`,
    );
  }
  return new CwlExecutionError(EXPRESSION_FAILED, `${where} failed: ${safeMessage(error)}`);
}

function isTimeout(error: unknown): boolean {
  return readOwnString(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function safeName(error: unknown): string {
  return readOwnString(error, 'name') ?? readOwnString(Object.getPrototypeOf(error), 'name') ?? '';
}

/**
 * Returns the message of an error without running any code: errors can come from the context,
 * where a `message` getter would run outside the time limit.
 */
function safeMessage(error: unknown): string {
  const message = readOwnString(error, 'message');
  if (message === undefined) return 'unknown error';
  const name = safeName(error);
  return name === '' ? message : `${name}: ${message}`;
}

function readOwnString(value: unknown, key: string): string | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function'))
    return undefined;
  // A Proxy would run its traps on the descriptor lookup.
  if (types.isProxy(value)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  return typeof descriptor?.value === 'string' ? descriptor.value : undefined;
}

function quote(source: string): string {
  return `"${shortenText(source)}"`;
}
