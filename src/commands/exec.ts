/**
 * `ctao-pilot exec`: runs one CWL document on this machine, the way the job wrapper would,
 * and prints the output object as JSON, with the exit codes of cwltool.
 */
import { readFile, useBlockingCalls } from '../cwl/async-fs.js';
import path from 'node:path';
import { CwlUnsupportedError, CwlValidationError, PilotError } from '../errors.js';
import type { Logger } from '../log.js';
import { ExecUsageError, parseExecArgs, type ExecFlags } from './exec-args.js';
import { attachProgressDisplay } from './exec-progress.js';
import {
  isTerminal,
  standardError,
  standardOutput,
  writeStandardOutput,
} from './standard-streams.js';

// The engine and yaml are imported where they are first needed, so that `--help` and usage
// errors are printed without loading them.

const USAGE = `Usage: ctao-pilot exec [options] DOCUMENT [JOB]

Runs the CWL document DOCUMENT (optionally DOCUMENT#process for a packed file) with the input
object in JOB (YAML or JSON) and prints the output object as JSON on standard output.

Options:
  --outdir DIR          folder that receives the outputs (default: the current folder)
  --tmpdir-prefix DIR   folder for temporary and staging folders (default: the system one)
  --quiet               print only errors on standard error, without the progress display
  --debug               log the engine's steps on standard error
  --parallel            run independent steps and scatter jobs at once (default: one at a time)
  -h, --help            print this help

Exit codes: 0 success, 1 failed run or invalid document or input, 2 bad usage,
33 the document needs a feature this version does not support.
`;

/** Exit code of cwltool for a document that needs an unsupported feature. */
const EXIT_UNSUPPORTED = 33;

/** Runs `ctao-pilot exec` with the arguments after `exec` and returns the process exit code. */
export async function execCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseExecArgs>;
  try {
    parsed = parseExecArgs(argv);
  } catch (error) {
    if (!(error instanceof ExecUsageError)) throw error;
    standardError().write(`ctao-pilot exec: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    standardOutput().write(USAGE);
    return 0;
  }
  const [document, jobFile, ...extra] = parsed.positionals;
  if (document === undefined || extra.length > 0) {
    standardError().write(`ctao-pilot exec: expected DOCUMENT and at most one JOB\n\n${USAGE}`);
    return 2;
  }

  try {
    return await execDocument(document, jobFile, parsed.values);
  } catch (error) {
    return reportFailure(error, parsed.values.debug === true);
  }
}

async function execDocument(
  document: string,
  jobFile: string | undefined,
  flags: ExecFlags,
): Promise<number> {
  const { runDocument } = await import('../cwl/index.js');
  // One document, then exit: the expression worker would cost more to start than it saves,
  // and file-system calls need not wait for the thread pool.
  const { runExpressionsInThisThread } = await import('../cwl/expressions-js.js');
  runExpressionsInThisThread();
  useBlockingCalls();
  const job = jobFile === undefined ? {} : await readJob(jobFile);
  const log = flags.debug ? await createDebugLogger() : undefined;

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Steps are drawn on a terminal only, and payload output then goes through the display, so
  // it is written above the frame instead of under it. Elsewhere the payload writes straight
  // to this process's standard error.
  const display =
    flags.quiet !== true && isTerminal(2) ? attachProgressDisplay(standardError()) : undefined;
  try {
    const result = await runDocument({
      document,
      job,
      jobBaseDir: jobFile === undefined ? process.cwd() : path.dirname(path.resolve(jobFile)),
      outdir: flags.outdir ?? process.cwd(),
      tmpdirPrefix: flags['tmpdir-prefix'],
      payloadStdout: display?.payloadOutput,
      payloadStderr: display?.payloadOutput,
      signal: controller.signal,
      log,
      parallel: flags.parallel === true,
      onProgress: display?.onProgress,
    });
    display?.close();
    await writeStandardOutput(`${JSON.stringify(result.outputs, null, 4)}\n`);
    return result.status === 'success' ? 0 : 1;
  } finally {
    display?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function readJob(jobFile: string): Promise<Record<string, unknown>> {
  const { describeReadError } = await import('../cwl/load-errors.js');
  const { describeYamlError, parseCwlYaml } = await import('../cwl/yaml.js');
  const file = path.resolve(jobFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CwlValidationError('CWL_INVALID_INPUT', describeReadError('job file', file, error), {
      cause: error,
    });
  }
  let job: unknown;
  try {
    job = parseCwlYaml(text);
  } catch (error) {
    throw new CwlValidationError('CWL_INVALID_INPUT', describeYamlError(file, error), {
      cause: error,
    });
  }
  if (job === null || job === undefined) return {};
  if (typeof job !== 'object' || Array.isArray(job)) {
    throw new CwlValidationError(
      'CWL_INVALID_INPUT',
      `invalid job file ${jobFile}: expected a mapping of input names to values`,
    );
  }
  return job as Record<string, unknown>;
}

async function createDebugLogger(): Promise<Logger> {
  const { createLogger } = await import('../log.js');
  return createLogger({ level: 'debug', destination: standardError() });
}

/**
 * Writes the message of `error` on stderr and returns the exit code. An error that is not one
 * of the pilot's own is a bug, so `--debug` adds its stack trace.
 */
function reportFailure(error: unknown, debug: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  standardError().write(`ctao-pilot exec: ${message}\n`);
  if (error instanceof CwlUnsupportedError) return EXIT_UNSUPPORTED;
  if (debug && !(error instanceof PilotError) && error instanceof Error) {
    standardError().write(`${error.stack}\n`);
  }
  return 1;
}
