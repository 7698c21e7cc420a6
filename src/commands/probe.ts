/**
 * `ctao-pilot probe`: probes this node as the pilot does at start and prints the match
 * document, benchmark, batch job and time budget as JSON.
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { probeNode } from '../probe/index.js';

const USAGE = `Usage: ctao-pilot probe [options]

Probes this node and prints {node, slot, benchmark, batch, timeBudget} as JSON on standard
output. Facts that cannot be probed fall back to defaults, with a warning on standard error.

Options:
  --work-dir DIR   folder whose free space is the scratch space (default: the current folder)
  --cores N        cores to use, instead of the probed count
  --ram-mb N       memory to use, in MiB, instead of the probed amount
  --wall-time S    wall time left, in seconds, instead of the batch system's value
  --site NAME      site name for the match document (default: Unknown)
  -h, --help       print this help
`;

function parseProbeArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      'work-dir': { type: 'string' },
      cores: { type: 'string' },
      'ram-mb': { type: 'string' },
      'wall-time': { type: 'string' },
      site: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Parses the value of `--<flag>` as a positive integer, or throws a usage error. */
function positiveIntegerFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new Error(`invalid --${flag} "${text}": expected a positive integer`);
  }
  return Number(text);
}

/** Returns `text`, the value of --`flag`, after checking that it names a folder. */
function folderFlag(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let isFolder: boolean;
  try {
    isFolder = statSync(text).isDirectory();
  } catch {
    throw new Error(`invalid --${flag} "${text}": folder not found`);
  }
  if (!isFolder) throw new Error(`invalid --${flag} "${text}": a file, expected a folder`);
  return text;
}

/** Runs `ctao-pilot probe` with the arguments after `probe` and returns the exit code. */
export async function probeCommand(argv: string[]): Promise<number> {
  let options: Parameters<typeof probeNode>[0];
  try {
    const { values } = parseProbeArgs(argv);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    options = {
      workDir: folderFlag('work-dir', values['work-dir']) ?? process.cwd(),
      site: values.site,
      cores: positiveIntegerFlag('cores', values.cores),
      ramMb: positiveIntegerFlag('ram-mb', values['ram-mb']),
      wallTimeSeconds: positiveIntegerFlag('wall-time', values['wall-time']),
      log: createLogger({ level: 'warn' }),
    };
  } catch (error) {
    process.stderr.write(`ctao-pilot probe: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const { node, slot, benchmark, batch, timeBudget } = await probeNode(options);
  process.stdout.write(
    `${JSON.stringify({ node, slot, benchmark, batch, timeBudget }, null, 2)}\n`,
  );
  return 0;
}
