import { createWriteStream } from 'node:fs';
import { formatRunHelp, resolveConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { Pilot, PilotExitCode, STOP_SIGNALS } from '../pilot/index.js';
import { DEFAULT_FLUSH_DEADLINE_MS, LogShipper } from '../pilot/index.js';
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
  const log = createLogger({ level: config.logLevel, destination });

  const pilot = new Pilot(config, log);
  const shipper = new LogShipper({
    client: () => pilot.serviceClient,
    log,
    secrets: [config.secret],
  });
  destination.pipe(shipper);
  const onSignal = (signal: NodeJS.Signals) => pilot.handleSignal(signal);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  const code = await pilot.run();
  for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  await shipper.flush(DEFAULT_FLUSH_DEADLINE_MS);
  shipper.close();
  // Payloads or transfers cut off by the signal budget may still hold the event loop; the
  // pilot has already reported what it could, so it exits at once.
  setTimeout(() => process.exit(code), 500).unref();
  if (pilot.failureMessage) process.stderr.write(`ctao-pilot run: ${pilot.failureMessage}\n`);
  return code;
}
