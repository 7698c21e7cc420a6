/**
 * Runs one CommandLineTool: resources, staging, the command line, the payload process, its
 * exit code, and output collection.
 */
import { preloadCrypto } from '../builtins.js';
import { randomHex } from './names.js';
import path from 'node:path';
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import { buildCommandLine, toShellScript, usesShell } from './command-line.js';
import { createEvaluator, type Evaluator, type RuntimeContext } from './evaluate.js';
import { stageInitialWorkDir } from './initial-workdir.js';
import { asArray, findRequirement, isFileLike, isObject, type CwlObject } from './model.js';
import { collectOutputs } from './outputs.js';
import { computeResources } from './resources.js';
import type { ProcessRun } from './process-run.js';
import { resolveType, type CwlType } from './schema.js';
import { runPayload, type PayloadResult } from './spawn.js';
import type { ProcessStatus } from './index.js';

/** Command line, runtime and streams of a CommandLineTool that is ready to start. */
interface PreparedCommand {
  argv: string[];
  runtime: RuntimeContext;
  evaluator: Evaluator;
  streams: Streams;
  /** Sources of the InitialWorkDirRequirement entries that were linked into the job folder. */
  stagedSources: Set<string>;
}

/** Runs the CommandLineTool of `run` and returns its status and raw output object. */
export async function runCommandLineTool(
  run: ProcessRun,
): Promise<{ status: ProcessStatus; outputs: Record<string, unknown> }> {
  const { process, inputs, options } = run;
  const prepared = await prepareCommand(run);
  const { argv, runtime, evaluator, streams } = prepared;

  // Only the command name is logged: the other words may carry values from the input object.
  options.log?.info({ command: argv[0], words: argv.length, cwd: run.jobDir }, 'payload starting');
  const result = await runPayload({
    argv,
    cwd: run.jobDir,
    env: await buildEnvironment(process, evaluator, runtime, options.baseEnv),
    ...streams,
    stdoutSink: options.payloadStdout,
    stderrSink: options.payloadStderr,
    timeLimitSeconds: await readTimeLimit(process, evaluator),
    signal: options.signal,
    onProcessStart: (pid) => {
      options.onProcessStart?.(pid);
      // Output checksums need node:crypto. Loading it now costs nothing while the tool runs.
      preloadCrypto();
    },
  });
  options.log?.info({ exitCode: result.exitCode, timedOut: result.timedOut }, 'payload finished');

  const status = requireSuccess(process, result);

  runtime.exitCode = result.exitCode;
  const outputs = await collectOutputs({
    process,
    named: run.named,
    evaluator: createEvaluator(process, inputs, runtime),
    runtime,
    outdir: run.jobDir,
    linkTargets: [run.jobDir, run.stagingDir, ...run.inputSources, ...prepared.stagedSources],
    stdoutPath: streams.stdoutPath,
    stderrPath: streams.stderrPath,
  });
  return { status, outputs };
}

/** Returns `success` for a successful exit, and otherwise throws CwlExecutionError with the status. */
function requireSuccess(process: CwlObject, result: PayloadResult): 'success' {
  const status = classifyExit(process, result.exitCode, result.timedOut);
  if (status === 'success') return status;
  const reason = result.timedOut
    ? 'exceeded its ToolTimeLimit'
    : `exited with code ${result.exitCode}`;
  throw new CwlExecutionError('CWL_TOOL_FAILED', `the tool ${reason} (${status})`, {
    processStatus: status,
  });
}

/** Computes resources, stages InitialWorkDirRequirement and builds the command line. */
async function prepareCommand(run: ProcessRun): Promise<PreparedCommand> {
  const { process, inputs, options } = run;
  const preliminary = createEvaluator(process, inputs, undefined);
  const resources = await computeResources(process, preliminary, options.runtime);
  const runtime: RuntimeContext = { outdir: run.jobDir, tmpdir: run.tmpDir, ...resources };
  const evaluator = createEvaluator(process, inputs, runtime);

  const stagedSources = await stageInitialWorkDir(
    process,
    inputs,
    evaluator,
    run.jobDir,
    run.stagingDir,
  );
  const words = await buildCommandLine(process, inputs, run.named, evaluator);
  const argv = usesShell(process)
    ? ['/bin/sh', '-c', toShellScript(words)]
    : words.map((word) => word.text);
  if (argv.length === 0) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      'the tool has no command: set "baseCommand" or "arguments"',
    );
  }

  const streams = await resolveStreams(process, evaluator, run.jobDir);
  return { argv, runtime, evaluator, streams, stagedSources };
}

interface Streams {
  stdinPath?: string;
  stdoutPath?: string;
  stderrPath?: string;
}

/**
 * Resolves `stdin`, `stdout` and `stderr`. An output of type `stdout` or `stderr` without a
 * file name gets a random one, as CWL specifies.
 */
async function resolveStreams(
  process: CwlObject,
  evaluator: Evaluator,
  jobDir: string,
): Promise<Streams> {
  const streams: Streams = {};
  const outputTypes = asArray(process.outputs)
    .filter(isObject)
    .map((output) => resolveType(output.type as CwlType, new Map()));

  const stdin = await evaluator.evaluate(process.stdin, null);
  if (isFileLike(stdin)) streams.stdinPath = stdin.path;
  else if (typeof stdin === 'string' && stdin !== '')
    streams.stdinPath = path.resolve(jobDir, stdin);

  for (const stream of ['stdout', 'stderr'] as const) {
    let name = await evaluator.evaluate(process[stream], null);
    if ((name === undefined || name === null) && outputTypes.includes(stream)) {
      name = `${stream}-${randomHex(16)}`;
    }
    if (name === undefined || name === null || name === '') continue;
    const target = path.resolve(jobDir, String(name));
    if (!target.startsWith(jobDir + path.sep)) {
      throw new CwlValidationError(
        'CWL_INVALID_DOCUMENT',
        `invalid ${stream} ${JSON.stringify(name)}: it must be a file name inside the output folder`,
      );
    }
    streams[`${stream}Path`] = target;
  }
  return streams;
}

/**
 * Builds the payload environment from nothing: PATH, then `baseEnv`, then HOME and TMPDIR as
 * CWL requires, then EnvVarRequirement. No other variable of the pilot's environment is passed on.
 */
async function buildEnvironment(
  process: CwlObject,
  evaluator: Evaluator,
  runtime: RuntimeContext,
  baseEnv: Record<string, string> | undefined,
): Promise<Record<string, string>> {
  const env: Record<string, string> = { PATH: hostPath() };
  Object.assign(env, baseEnv ?? {});
  env.HOME = runtime.outdir;
  env.TMPDIR = runtime.tmpdir;

  const requirement = findRequirement(process, 'EnvVarRequirement')?.requirement;
  for (const entry of asArray(requirement?.envDef).filter(isObject)) {
    const value = await evaluator.evaluate(entry.envValue, null);
    env[String(entry.envName)] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return env;
}

/** PATH of the pilot, so payloads find the same commands; no other variable is inherited. */
function hostPath(): string {
  return globalThis.process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
}

async function readTimeLimit(process: CwlObject, evaluator: Evaluator): Promise<number> {
  const requirement = findRequirement(process, 'ToolTimeLimit')?.requirement;
  if (requirement === undefined) return 0;
  const value = await evaluator.evaluate(requirement.timelimit, null);
  if (typeof value !== 'number' || value < 0 || !Number.isFinite(value)) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid ToolTimeLimit timelimit ${JSON.stringify(value)}: expected a non-negative number of seconds`,
    );
  }
  return value;
}

/**
 * Maps an exit code to a process status by checking `successCodes`, then `temporaryFailCodes`,
 * then `permanentFailCodes`. An unlisted 0 is a success, and any other unlisted code a permanent
 * failure.
 */
export function classifyExit(
  process: CwlObject,
  exitCode: number,
  timedOut: boolean,
): ProcessStatus {
  if (timedOut) return 'permanentFail';
  const listed = (key: string): boolean => asArray(process[key]).map(Number).includes(exitCode);
  if (listed('successCodes')) return 'success';
  if (listed('temporaryFailCodes')) return 'temporaryFail';
  if (listed('permanentFailCodes')) return 'permanentFail';
  return exitCode === 0 ? 'success' : 'permanentFail';
}
