/**
 * Evaluation of CWL JavaScript expressions, synchronously, in a worker thread, or on request in
 * this thread.
 *
 * The worker keeps one `node:vm` context per distinct expressionLib. Its built-ins are frozen
 * after the expressionLib ran, and every evaluation removes the globals earlier expressions
 * added and copies the parameter context in afresh, so expressions sharing a context do not
 * see each other's changes. The worker, not the pilot, absorbs what a vm context cannot
 * contain: a promise rejected without a handler (which ends a Node process) and a runaway
 * allocation (which hits the worker's heap limit).
 */
import { nodeCrypto } from '../builtins.js';
import { types } from 'node:util';
import vm from 'node:vm';
import type { MessagePort, Worker } from 'node:worker_threads';
import { workerThreads } from '../builtins.js';
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import { HARDEN_SOURCE, PREPARE_SOURCE } from './expressions-sandbox.js';
import { EXPRESSION_INVALID, shortenText } from './expressions-scan.js';
import { EVALUATOR_SOURCE, WORKER_SOURCE } from './expressions-worker.js';
import type {
  Evaluator,
  EvaluatorFactory,
  WorkerData,
  WorkerRequest,
  WorkerResponse,
} from './expressions-worker.js';
import { noteCodePart } from '../code-parts.js';

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

/** Limit of the expression worker's old-generation heap, in MiB. */
const WORKER_HEAP_MB = 512;
/** Extra wait past an expression's time limit, for passing the messages. */
const GRACE_MS = 200;
/** Time limit for a new worker to start. A start takes about 0.1 s on an idle machine. */
const START_LIMIT_MS = 30_000;
/**
 * How long the host polls for a response before it sleeps on the futex, in milliseconds.
 * Most evaluations finish within this time, and polling saves the wake-up latency (about
 * 50 microseconds per evaluation measured on a 2-core virtual machine).
 */
const POLL_MS = 0.25;

interface WorkerHandle {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
  isReady: boolean;
  /** Keys of the expressionLib texts sent to this worker. */
  sentLibraries: Set<string>;
}

let current: WorkerHandle | undefined;
/** True once {@link runExpressionsInThisThread} was called. */
let runsInThisThread = false;
/** The evaluator of this thread, made at the first expression that needs it. */
let inThread: Evaluator | undefined;

/**
 * Makes every later expression run in this thread, in the same sandbox as in the worker, with
 * the time limit enforced by `node:vm`. A command that runs one document and exits saves the
 * worker's start, about 25 ms of two busy cores. The pilot runs many jobs in one process, so
 * it keeps the worker.
 *
 * NOTE: in this thread there is no heap limit for expressions. One that allocates without
 * bound ends the process with V8's out-of-memory error instead of failing alone.
 */
export function runExpressionsInThisThread(): void {
  runsInThisThread = true;
}

function threadEvaluator(): Evaluator {
  if (inThread !== undefined) return inThread;
  noteCodePart('javascript');
  const factory = vm.runInThisContext(EVALUATOR_SOURCE, {
    filename: 'cwl-evaluator',
  }) as EvaluatorFactory;
  inThread = factory(vm, types, PREPARE_SOURCE, HARDEN_SOURCE, true);
  process.on('unhandledRejection', rethrowUnlessFromSandbox);
  return inThread;
}

/**
 * Ignores a promise an expression rejected without a handler, as the worker does: the promise
 * belongs to a sandbox context, so it is no instance of this realm's Promise. Any other
 * rejection is thrown again, which ends the process as Node's default handling does.
 */
function rethrowUnlessFromSandbox(reason: unknown, promise: Promise<unknown>): void {
  if (promise instanceof Promise) throw reason;
}

/**
 * Evaluates `code`, the inside of `$(...)` (an expression) or of `${...}` (a function body),
 * in strict mode with the parameter context as globals, and returns the result as a host
 * value that went through JSON. `source` is the whole expression, for messages.
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
  const request: WorkerRequest = {
    libraryKey: libraryKeyOf(expressionLib),
    code,
    isFunctionBody,
    input: toJsonText(root),
    timeoutMs,
  };

  if (runsInThisThread) {
    const response = threadEvaluator().respond({
      ...request,
      expressionLib: expressionLib as string[],
    });
    if (response.outcome === 'ok') return JSON.parse(response.detail);
    throw toError(response, source, expressionLib, timeoutMs);
  }

  let response = callWorker(request, source, expressionLib);
  if (response.outcome === 'unknown-library') {
    // The worker dropped the text from its bounded store: send it again.
    current?.sentLibraries.delete(request.libraryKey);
    response = callWorker(request, source, expressionLib);
  }
  if (response.outcome === 'ok') return JSON.parse(response.detail);
  throw toError(response, source, expressionLib, timeoutMs);
}

const libraryKeys = new WeakMap<readonly string[], string>();

/**
 * Returns a digest of the expressionLib entries. It is cached per array, so a caller that
 * keeps its array hashes it once, and each worker receives the text once.
 */
function libraryKeyOf(expressionLib: readonly string[]): string {
  if (expressionLib.length === 0) return '';
  let key = libraryKeys.get(expressionLib);
  if (key === undefined) {
    key = nodeCrypto().createHash('sha256').update(JSON.stringify(expressionLib)).digest('hex');
    libraryKeys.set(expressionLib, key);
  }
  return key;
}

/**
 * Starts the expression worker now, without waiting for it, when none runs. A worker takes
 * tens of milliseconds to start. A caller that knows JavaScript expressions are coming calls
 * this first, so that the start overlaps its own work instead of delaying the first expression.
 */
export function startExpressionWorker(): void {
  if (!runsInThisThread) current ??= startWorker();
}

/** Stops the expression worker, if one runs. The next evaluation starts a new one. */
export async function stopExpressionWorker(): Promise<void> {
  const handle = current;
  current = undefined;
  if (handle !== undefined) await handle.worker.terminate();
}

/**
 * Sends one request and blocks until the response. Without a response in time, the worker is
 * ended, which stops any JavaScript it runs, and the next request starts a new one.
 */
function callWorker(
  request: WorkerRequest,
  source: string,
  expressionLib: readonly string[],
): WorkerResponse {
  const handle = current ?? startWorker();
  current = handle;
  if (!handle.isReady) waitUntilReady(handle);
  if (request.libraryKey !== '' && !handle.sentLibraries.has(request.libraryKey)) {
    request = { ...request, expressionLib: [...expressionLib] };
    handle.sentLibraries.add(request.libraryKey);
  }

  Atomics.store(handle.signal, 0, 0);
  handle.port.postMessage(request);
  const pollEnd = performance.now() + POLL_MS;
  while (Atomics.load(handle.signal, 0) === 0 && performance.now() < pollEnd) {
    // Busy wait: see POLL_MS.
  }
  Atomics.wait(handle.signal, 0, 0, request.timeoutMs + GRACE_MS);

  const message = workerThreads().receiveMessageOnPort(handle.port);
  if (message !== undefined) return message.message as WorkerResponse;

  current = undefined;
  void handle.worker.terminate();
  // A worker past its heap limit ends without a response, so it looks the same as a timeout.
  throw new CwlExecutionError(
    EXPRESSION_TIMEOUT,
    `Expression "${shortenText(source)}" timed out after ${request.timeoutMs} ms ` +
      `or went past the ${WORKER_HEAP_MB} MiB heap limit of the expression worker: ` +
      'make it finish sooner and use less memory.',
  );
}

function waitUntilReady(handle: WorkerHandle): void {
  Atomics.wait(handle.signal, 1, 0, START_LIMIT_MS);
  const state = Atomics.load(handle.signal, 1);
  if (state === 1) {
    handle.isReady = true;
    return;
  }

  current = undefined;
  void handle.worker.terminate();
  const startError = workerThreads().receiveMessageOnPort(handle.port)?.message as
    WorkerResponse | undefined;
  const reason =
    state === -1
      ? `failed to start: ${startError?.detail ?? 'unknown error'}`
      : `did not start within ${START_LIMIT_MS} ms`;
  throw new CwlExecutionError(
    EXPRESSION_FAILED,
    `The JavaScript expression worker ${reason}. ` +
      'Check that the machine has free memory and threads.',
    { processStatus: 'temporaryFail' },
  );
}

function startWorker(): WorkerHandle {
  const { MessageChannel, Worker } = workerThreads();
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(8));
  const workerData: WorkerData = {
    port: port2,
    signal,
    prepareSource: PREPARE_SOURCE,
    hardenSource: HARDEN_SOURCE,
    evaluatorSource: EVALUATOR_SOURCE,
  };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    name: 'cwl-expressions',
    // The program is plain JavaScript: loader flags of the pilot's own process (such as a
    // TypeScript loader in development) would only slow the worker's start.
    execArgv: [],
    workerData,
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  // The worker must not keep the pilot alive, and its failures surface as missing responses.
  worker.unref();
  port1.unref();
  worker.on('error', () => undefined);
  return { worker, port: port1, signal, isReady: false, sentLibraries: new Set() };
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

function toError(
  response: WorkerResponse,
  source: string,
  expressionLib: readonly string[],
  timeoutMs: number,
): CwlExecutionError | CwlValidationError {
  const expression = `Expression "${shortenText(source)}"`;
  const index = response.libraryIndex;
  const entry = index === undefined ? '' : ` "${shortenText(expressionLib[index] ?? '')}"`;
  const library = `InlineJavascriptRequirement expressionLib[${index ?? '?'}]${entry}`;

  switch (response.outcome) {
    case 'syntax':
      return new CwlValidationError(
        EXPRESSION_INVALID,
        `${expression} is not valid JavaScript (${response.detail}): fix its syntax.`,
      );
    case 'not-json':
      return new CwlExecutionError(
        EXPRESSION_FAILED,
        `${expression} returned ${response.detail === 'undefined' ? 'undefined' : `a ${response.detail}`}, ` +
          'which has no JSON form: return null, a boolean, number, string, array or object.',
      );
    case 'library-syntax':
      return new CwlValidationError(
        EXPRESSION_INVALID,
        `${library} is not valid JavaScript (${response.detail}): fix its syntax.`,
      );
    case 'library-timeout':
      return new CwlExecutionError(
        EXPRESSION_TIMEOUT,
        `${library} timed out after ${timeoutMs} ms while loading.`,
      );
    case 'timeout':
      return new CwlExecutionError(
        EXPRESSION_TIMEOUT,
        `${expression} timed out after ${timeoutMs} ms: make it finish sooner.`,
      );
    case 'library-threw':
      return new CwlExecutionError(EXPRESSION_FAILED, `${library} failed: ${response.detail}`);
    default:
      return new CwlExecutionError(EXPRESSION_FAILED, `${expression} failed: ${response.detail}`);
  }
}
