/**
 * Entry point of the `ctao-pilot` command: `run` (the pilot), `exec` (one CWL document on this
 * machine), `probe` (node facts as JSON) and `--version`.
 */
import { setExitCode } from './commands/exit-code.js';
import { PILOT_VERSION } from './version.js';

const USAGE = `Usage: ctao-pilot <command> [options]

Commands:
  run                     start the pilot: match jobs from the central service and run them
  exec DOCUMENT [JOB]     run a CWL document on this machine and print its output object
  probe                   print this node's match document and time budget as JSON
  version                 print the version

Run "ctao-pilot <command> --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;

  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case '-V':
    case '--version':
    case 'version':
      process.stdout.write(`ctao-pilot ${PILOT_VERSION}\n`);
      return 0;
    case 'exec': {
      const { execCommand } = await import('./commands/exec.js');
      return execCommand(rest);
    }
    case 'run': {
      const { runCommand } = await import('./commands/run.js');
      return runCommand(rest);
    }
    case 'probe': {
      const { probeCommand } = await import('./commands/probe.js');
      return probeCommand(rest);
    }
    default:
      process.stderr.write(`ctao-pilot: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

setExitCode(main(process.argv.slice(2)));
