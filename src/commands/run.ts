import { createWriteStream } from 'node:fs';
import { formatRunHelp, resolveConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { Pilot, PilotExitCode } from '../pilot/index.js';
import { PassThrough } from 'node:stream';

/** Runs `ctao-pilot run`: resolves the configuration and starts the pilot. */
export async function runCommand(argv: string[]): Promise<number> {
  let resolved;
  try {
    resolved = resolveConfig({ argv, env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ctao-pilot run: ${error.message}\n`);
    return PilotExitCode.BadConfiguration;
  }
  if (resolved.kind === 'help') {
    process.stdout.write(formatRunHelp());
    return 0;
  }

  const { config } = resolved;
  const destination = new PassThrough();
  destination.pipe(process.stderr);
  if (config.logFile) destination.pipe(createWriteStream(config.logFile, { flags: 'a' }));
  const log = createLogger({ level: config.logLevel, destination }).child({
    pilotStamp: config.pilotStamp,
  });

  const pilot = new Pilot(config, log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'signal received; no new jobs will be matched');
    pilot.requestStop(`stopped by ${signal}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const code = await pilot.run();
  if (pilot.failureMessage) process.stderr.write(`ctao-pilot run: ${pilot.failureMessage}\n`);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}
