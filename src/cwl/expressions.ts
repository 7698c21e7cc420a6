/**
 * CWL v1.2 expressions: parameter references `$(inputs.x)` and, with
 * InlineJavascriptRequirement, JavaScript expressions `$(...)` and function bodies `${...}`,
 * including string interpolation and the backslash escapes.
 */
import { CwlExecutionError, CwlValidationError } from '../errors.js';
import { EXPRESSION_FAILED, runJavaScript } from './expressions-js.js';
import { parseParameterReference, resolveParameterReference } from './expressions-refs.js';
import { EXPRESSION_INVALID, scanTemplate, shortenText } from './expressions-scan.js';
import type { TemplatePart } from './expressions-scan.js';

export { EXPRESSION_FAILED, EXPRESSION_TIMEOUT, stopExpressionWorker } from './expressions-js.js';
export { EXPRESSION_INVALID } from './expressions-scan.js';

/** The parameter context of an expression. */
export interface ExpressionContext {
  /** The input object of the process. */
  inputs: unknown;
  /** The field-specific value, such as the glob result in `outputEval`, or null. */
  self: unknown;
  /** The `runtime` object: outdir, tmpdir, cores, ram, outdirSize, tmpdirSize, exitCode. */
  runtime: unknown;
}

/** How to evaluate expressions. */
export interface ExpressionOptions {
  /** True when InlineJavascriptRequirement applies. Without it only parameter references run. */
  javascript: boolean;
  /** InlineJavascriptRequirement `expressionLib` entries, run before any expression. */
  expressionLib?: string[];
  /**
   * Time limit of one JavaScript evaluation, in milliseconds, including the first load of its
   * expressionLib. Default: 20000, the default of the JavaScript sandbox in cwl-utils 0.22
   * (the cwltool 3.1 command line raises it to 60 s).
   */
  timeoutMs?: number;
  /**
   * Removes leading and trailing whitespace before evaluation, as cwltool does. Set false for
   * text whose whitespace matters, such as an InitialWorkDirRequirement `entry`. Default: true.
   */
  trimWhitespace?: boolean;
}

/** Default time limit of one JavaScript evaluation, in milliseconds. */
export const DEFAULT_EXPRESSION_TIMEOUT_MS = 20_000;

const MAX_CACHED_TEMPLATES = 5000;
const templates = new Map<string, TemplatePart[]>();

/**
 * Returns true when `text` contains `$(` or `${`, escaped or not. Such text needs
 * {@link evaluateExpression}, which also turns `\$(` into `$(`. Other text is taken literally.
 */
export function isExpression(text: string): boolean {
  return text.includes('$(') || text.includes('${');
}

/**
 * Evaluates a CWL field value that may contain expressions.
 *
 * A value that is one expression and nothing else (after trimming) returns the expression's
 * value unchanged, of any JSON type. Otherwise each expression's value is spliced into the
 * text: strings as they are, other values as JSON text. Text without `$(` or `${` is returned
 * as it is, escapes included.
 *
 * JavaScript runs in a worker thread, and the calling thread blocks until it ends, for at most
 * `timeoutMs` plus 0.2 s. Timers and I/O of the caller wait meanwhile.
 *
 * A parameter reference returns the referenced value itself, not a copy. A JavaScript
 * expression returns a fresh value that went through JSON, so `undefined` fields are dropped.
 * A `long` input held as a bigint arrives in JavaScript as a number, exact only up to 2^53,
 * while a reference returns the bigint and interpolation writes all its digits. A `long` held
 * as a decimal string stays a string everywhere.
 *
 * @throws CwlValidationError (`CWL_EXPRESSION_INVALID`) for malformed text or for JavaScript
 *   without InlineJavascriptRequirement; CwlExecutionError (`CWL_EXPRESSION_FAILED` or
 *   `CWL_EXPRESSION_TIMEOUT`) when evaluation fails.
 */
export function evaluateExpression(
  text: string,
  context: ExpressionContext,
  options: ExpressionOptions,
): unknown {
  if (!isExpression(text)) return text;

  const source = options.trimWhitespace === false ? text : text.trim();
  const parts = scanCached(source);
  const first = parts[0];
  if (parts.length === 1 && first?.kind === 'expression') {
    return evaluatePart(first, context, options);
  }

  let result = '';
  for (const part of parts) {
    if (part.kind === 'text') result += part.text;
    else result += toInterpolationText(evaluatePart(part, context, options));
  }
  return result;
}

/**
 * Returns the text an expression value takes inside a longer string: a string as it is,
 * anything else as JSON with sorted keys and `, ` / `: ` separators. cwltool writes
 * interpolated JSON in that layout (Python's json.dumps), and conformance test checksums
 * depend on it. Also used for InitialWorkDirRequirement entries that are not strings.
 * Unlike cwltool, which escapes non-ASCII characters as `\uXXXX`, this keeps them as they are.
 */
export function toInterpolationText(value: unknown): string {
  if (typeof value === 'string') return value;
  return formatJson(value) ?? 'null';
}

function formatJson(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return String(value);
    case 'object':
      return Array.isArray(value) ? formatArray(value) : formatObject(value as object);
    default:
      return undefined;
  }
}

function formatArray(values: unknown[]): string {
  return `[${values.map((item) => formatJson(item) ?? 'null').join(', ')}]`;
}

function formatObject(object: object): string {
  const entries: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const text = formatJson((object as Record<string, unknown>)[key]);
    if (text !== undefined) entries.push(`${JSON.stringify(key)}: ${text}`);
  }
  return `{${entries.join(', ')}}`;
}

function scanCached(source: string): TemplatePart[] {
  const cached = templates.get(source);
  if (cached !== undefined) return cached;

  const parts = scanTemplate(source);
  if (templates.size >= MAX_CACHED_TEMPLATES) templates.clear();
  templates.set(source, parts);
  return parts;
}

function evaluatePart(
  part: Extract<TemplatePart, { kind: 'expression' }>,
  context: ExpressionContext,
  options: ExpressionOptions,
): unknown {
  // Parameter references are resolved directly even with JavaScript enabled: the result is
  // the same and no sandbox is needed. A reference that does not resolve (such as `.length`
  // of a string) falls through to JavaScript, which has the last word.
  const reference = part.isFunctionBody ? null : parseParameterReference(part.code);
  if (reference !== null) {
    const root = { inputs: context.inputs, self: context.self ?? null, runtime: context.runtime };
    const resolved = resolveParameterReference(reference, root);
    if (resolved.ok) return resolved.value;
    if (!options.javascript) {
      throw new CwlExecutionError(
        EXPRESSION_FAILED,
        `Parameter reference "${shortenText(part.source)}" failed: ${resolved.reason}.`,
      );
    }
  }

  if (!options.javascript) {
    throw new CwlValidationError(
      EXPRESSION_INVALID,
      `"${shortenText(part.source)}" is not a parameter reference such as $(inputs.name): ` +
        'JavaScript expressions need InlineJavascriptRequirement in the document.',
    );
  }

  return runJavaScript(
    part.source,
    part.code,
    part.isFunctionBody,
    context,
    options.expressionLib ?? [],
    options.timeoutMs ?? DEFAULT_EXPRESSION_TIMEOUT_MS,
  );
}
