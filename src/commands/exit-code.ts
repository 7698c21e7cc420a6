/** The process exit code set from a command's outcome, for both entry points. */

/**
 * Sets the exit code to the number `outcome` resolves to. A rejection, which only a bug lets
 * through, prints its message and sets exit code 1.
 */
export function setExitCode(outcome: Promise<number>): void {
  outcome.then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`ctao-pilot: ${message}\n`);
      process.exitCode = 1;
    },
  );
}
