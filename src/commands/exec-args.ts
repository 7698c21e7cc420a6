/**
 * Command line of `ctao-pilot exec`. Parsed here rather than with node:util's parseArgs, which
 * took about 0.7 ms to load and run on a cold start: a share of every short run.
 */

/** Options of `ctao-pilot exec` after parsing. */
export interface ExecFlags {
  outdir?: string;
  'tmpdir-prefix'?: string;
  quiet?: boolean;
  debug?: boolean;
  parallel?: boolean;
  help?: boolean;
}

/** A command line that cannot be parsed; the message names the offending argument. */
export class ExecUsageError extends Error {}

/** Options that take a value, with the placeholder the usage text gives it. */
const VALUE_OPTIONS = new Map<string, string>([
  ['outdir', 'DIR'],
  ['tmpdir-prefix', 'DIR'],
]);
const FLAG_OPTIONS = new Set(['quiet', 'debug', 'parallel', 'help']);
const SHORT_FLAGS = new Map([['h', 'help']]);

/**
 * Parses the arguments after `exec`: `--name value` or `--name=value` for options with a value,
 * `--name` for flags, `-h`, and positionals, which `--` ends option parsing for. Throws
 * ExecUsageError.
 */
export function parseExecArgs(argv: string[]): { values: ExecFlags; positionals: string[] } {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (argument.startsWith('--')) {
      const equals = argument.indexOf('=');
      const name = argument.slice(2, equals === -1 ? undefined : equals);
      const inline = equals === -1 ? undefined : argument.slice(equals + 1);
      const placeholder = VALUE_OPTIONS.get(name);
      if (placeholder !== undefined) {
        const value = inline ?? argv[index + 1];
        if (value === undefined || (inline === undefined && value.startsWith('-'))) {
          throw new ExecUsageError(`missing value for --${name}, as in --${name} ${placeholder}`);
        }
        if (inline === undefined) index += 1;
        values[name] = value;
      } else if (FLAG_OPTIONS.has(name)) {
        if (inline !== undefined)
          throw new ExecUsageError(`invalid ${argument}: --${name} takes no value`);
        values[name] = true;
      } else {
        throw new ExecUsageError(`unknown option --${name}`);
      }
    } else if (argument.startsWith('-') && argument !== '-') {
      for (const letter of argument.slice(1)) {
        const name = SHORT_FLAGS.get(letter);
        if (name === undefined) throw new ExecUsageError(`unknown option -${letter}`);
        values[name] = true;
      }
    } else {
      positionals.push(argument);
    }
  }
  return { values: values as ExecFlags, positionals };
}
