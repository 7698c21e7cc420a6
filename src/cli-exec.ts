/**
 * Entry point of `ctao-pilot exec` in the bundle. The launcher runs this smaller program, the
 * CWL engine without the pilot, when the command is `exec`; src/cli.ts serves every command,
 * `exec` included, everywhere else.
 */
import { execCommand } from './commands/exec.js';
import { exitWhenDone } from './commands/standard-streams.js';

exitWhenDone(execCommand(process.argv.slice(3)));
