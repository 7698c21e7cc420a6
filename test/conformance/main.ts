/**
 * Entry point of `npm run conformance`. See USAGE in options.ts for the options.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroup } from './execute.js';
import { parseRunnerArgs, USAGE } from './options.js';
import { runConformance } from './run.js';

const REPO_ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');

/** Exit code for invalid options or an unreadable suite, as opposed to a missed floor. */
const USAGE_EXIT_CODE = 2;

const running = new Set<number>();

// Runner process groups are detached, so an interrupt must end them explicitly.
for (const [signal, exitCode] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    running.forEach((pid) => killGroup(pid, 'SIGKILL'));
    process.exit(exitCode);
  });
}

let exitCode: number;
try {
  const options = parseRunnerArgs(process.argv.slice(2), REPO_ROOT);
  exitCode = await runConformance(options, {
    print: (line) => process.stdout.write(`${line}\n`),
    running,
  });
} catch (error) {
  process.stderr.write(`conformance: ${(error as Error).message}\n`);
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`${USAGE}\n`);
  }
  exitCode = USAGE_EXIT_CODE;
}
process.exitCode = exitCode;
