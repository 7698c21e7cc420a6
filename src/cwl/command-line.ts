/**
 * Builds the command line of a CommandLineTool from `baseCommand`, `arguments` and the
 * `inputBinding`s of its inputs, following the CWL v1.2 rules. Bindings sort by position, then
 * by argument index or input name. Nested array and record bindings follow their parent.
 */
import { CwlValidationError } from '../errors.js';
import type { Evaluator } from './evaluate.js';
import {
  asArray,
  findRequirement,
  isFileLike,
  isObject,
  localName,
  type CwlObject,
} from './model.js';
import { matchBranch, resolveType, type CwlType, type NamedTypes } from './schema.js';

/** One command-line word and whether the shell must see it quoted. */
export interface CommandWord {
  text: string;
  shellQuote: boolean;
}

type SortKey = (number | string)[];

interface BoundPart {
  key: SortKey;
  words: CommandWord[];
}

/** Builds the argument vector of `process` for the resolved input object `inputs`. */
export async function buildCommandLine(
  process: CwlObject,
  inputs: Record<string, unknown>,
  named: NamedTypes,
  evaluator: Evaluator,
): Promise<CommandWord[]> {
  const parts: BoundPart[] = [];
  const args = asArray(process.arguments);

  for (const [index, argument] of args.entries()) {
    if (isObject(argument)) {
      const position = await evaluatePosition(argument.position, null, evaluator);
      const value = await evaluator.evaluate(argument.valueFrom, null);
      parts.push({ key: [position, index], words: toWords(argument, value) });
    } else {
      const value = await evaluator.evaluate(argument, null);
      parts.push({ key: [0, index], words: toWords({}, value) });
    }
  }

  for (const parameter of asArray(process.inputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    const binder = new Binder(named, evaluator, parts);
    await binder.bind(parameter.inputBinding, parameter.type as CwlType, inputs[name], [], name);
  }

  parts.sort((a, b) => compareKeys(a.key, b.key));
  const base = asArray(process.baseCommand).map((word) => ({
    text: String(word),
    shellQuote: true,
  }));
  return [...base, ...parts.flatMap((part) => part.words)];
}

/** Walks one input value and its type, adding a part for every binding it meets. */
class Binder {
  constructor(
    private readonly named: NamedTypes,
    private readonly evaluator: Evaluator,
    private readonly parts: BoundPart[],
  ) {}

  async bind(
    binding: unknown,
    type: CwlType,
    value: unknown,
    lead: SortKey,
    tail: string | number,
  ): Promise<void> {
    // A null value adds nothing, and its valueFrom is not evaluated (CWL v1.2, CommandLineBinding).
    if (value === null || value === undefined) return;
    const branch = matchBranch(type, value, this.named) ?? resolveType(type, this.named);
    let childLead = lead;

    if (isObject(binding)) {
      const position = await evaluatePosition(binding.position, value, this.evaluator);
      const key = [...lead, position, tail];
      childLead = key;
      if (binding.valueFrom !== undefined) {
        const computed = await this.evaluator.evaluate(binding.valueFrom, value);
        this.parts.push({ key, words: toWords(binding, computed) });
        return;
      }
      this.parts.push({ key, words: toWords(binding, value) });
    }

    if (!isObject(branch)) return;
    if (branch.type === 'array' && Array.isArray(value)) {
      await this.bindItems(binding, branch, value, childLead, tail);
    } else if (branch.type === 'record' && isObject(value)) {
      for (const field of asArray(branch.fields).filter(isObject)) {
        const fieldName = localName(String(field.name));
        await this.bind(
          field.inputBinding,
          field.type as CwlType,
          value[fieldName],
          childLead,
          fieldName,
        );
      }
    }
  }

  private async bindItems(
    binding: unknown,
    schema: CwlObject,
    items: unknown[],
    lead: SortKey,
    tail: string | number,
  ): Promise<void> {
    // A bound parameter whose array type has no binding of its own spreads its items as
    // separate words after the prefix, unless `itemSeparator` joins them into one.
    let itemBinding = schema.inputBinding;
    if (itemBinding === undefined && isObject(binding) && binding.itemSeparator === undefined) {
      itemBinding = {};
    }
    if (!isObject(itemBinding) && !hasNestedBindings(schema.items, this.named)) return;
    for (const [index, item] of items.entries()) {
      await this.bind(itemBinding, schema.items as CwlType, item, [...lead, index], tail);
    }
  }
}

function hasNestedBindings(type: unknown, named: NamedTypes): boolean {
  const resolved = resolveType(type as CwlType, named);
  if (Array.isArray(resolved)) return resolved.some((branch) => hasNestedBindings(branch, named));
  if (!isObject(resolved)) return false;
  if (resolved.type === 'record') {
    return asArray(resolved.fields).some(
      (field) => isObject(field) && field.inputBinding !== undefined,
    );
  }
  return resolved.type === 'array' && resolved.inputBinding !== undefined;
}

async function evaluatePosition(
  position: unknown,
  self: unknown,
  evaluator: Evaluator,
): Promise<number> {
  const value = await evaluator.evaluate(position ?? 0, self);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (value === null || value === undefined) return 0;
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `invalid inputBinding position ${JSON.stringify(value)}: expected an integer`,
  );
}

/**
 * Turns one bound value into words by the CWL rules for its kind. Null and false add nothing,
 * and true adds the prefix alone. An array is joined with `itemSeparator`, or else adds the
 * prefix before its items' own words. A record adds the prefix only.
 */
function toWords(binding: CwlObject, value: unknown): CommandWord[] {
  const prefix = typeof binding.prefix === 'string' ? binding.prefix : undefined;
  const separate = binding.separate !== false;
  const shellQuote = binding.shellQuote !== false;
  const word = (text: string): CommandWord => ({ text, shellQuote });
  const prefixWords = prefix !== undefined ? [word(prefix)] : [];

  if (value === null || value === undefined || value === false) return [];
  if (value === true) return prefixWords;

  let texts: string[];
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    if (typeof binding.itemSeparator === 'string') {
      texts = [value.map((item) => stringify(item)).join(binding.itemSeparator)];
    } else if (binding.valueFrom !== undefined) {
      return [...prefixWords, ...value.map((item) => word(stringify(item)))];
    } else {
      return prefixWords;
    }
  } else if (isObject(value) && !isFileLike(value)) {
    return prefixWords;
  } else {
    texts = [stringify(value)];
  }

  if (prefix === undefined) return texts.map(word);
  if (separate) return texts.flatMap((text) => [word(prefix), word(text)]);
  return texts.map((text) => word(prefix + text));
}

/** Formats one scalar, File or Directory for the command line. */
function stringify(value: unknown): string {
  if (isFileLike(value)) return String(value.path ?? value.location);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (isObject(value) || Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

/** Writes numbers without exponent notation, so `1e-10` reaches the tool as `0.0000000001`. */
function formatNumber(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** Compares sort keys element by element; numbers sort before strings, as cwltool does. */
export function compareKeys(a: SortKey, b: SortKey): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] as number | string;
    const y = b[i] as number | string;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Joins words into one `/bin/sh -c` script (ShellCommandRequirement): each word is quoted
 * unless its binding set `shellQuote: false`.
 */
export function toShellScript(words: CommandWord[]): string {
  return words.map((word) => (word.shellQuote ? quoteForShell(word.text) : word.text)).join(' ');
}

/** Quotes a word for a POSIX shell; safe words stay as they are. */
export function quoteForShell(text: string): string {
  if (text === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

/** Returns whether ShellCommandRequirement is in effect for `process`. */
export function usesShell(process: CwlObject): boolean {
  return findRequirement(process, 'ShellCommandRequirement') !== undefined;
}
