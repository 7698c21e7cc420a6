/**
 * Binds the expression evaluator to one process: whether JavaScript is enabled, its
 * `expressionLib`, and the runtime object of the run.
 */
import { CwlExecutionError, PilotError } from '../errors.js';
import { DEFAULT_EXPRESSION_TIMEOUT_MS, evaluateExpression, isExpression } from './expressions.js';
import { findRequirement, type CwlObject } from './model.js';

/** The `runtime` object that expressions see. */
export interface RuntimeContext {
  outdir: string;
  tmpdir: string;
  cores: number;
  ram: number;
  outdirSize: number;
  tmpdirSize: number;
  exitCode?: number;
}

/** Per-call options of {@link Evaluator.evaluate}. */
export interface EvaluateOptions {
  /** Runtime object to use instead of the evaluator's own. */
  runtime?: RuntimeContext;
  /** Keeps leading and trailing whitespace, for text whose whitespace matters. */
  keepWhitespace?: boolean;
}

/** Evaluates parameter references and expressions of one process. */
export interface Evaluator {
  /**
   * Evaluates `value` when it is a string with expressions, with `self` bound as given, and
   * returns any other value unchanged.
   */
  evaluate(value: unknown, self?: unknown, options?: EvaluateOptions): Promise<unknown>;
  /** Whether InlineJavascriptRequirement is in effect. */
  javascript: boolean;
}

/** Creates the evaluator of `process` for the input object `inputs`. */
export function createEvaluator(
  process: CwlObject,
  inputs: Record<string, unknown>,
  runtime: RuntimeContext | undefined,
): Evaluator {
  const found = findRequirement(process, 'InlineJavascriptRequirement');
  const javascript = found !== undefined;
  const expressionLib = Array.isArray(found?.requirement.expressionLib)
    ? found.requirement.expressionLib.map(String)
    : undefined;

  return {
    javascript,
    async evaluate(value, self, callOptions = {}) {
      if (typeof value !== 'string' || !isExpression(value)) return value;
      const context = { inputs, self: self ?? null, runtime: callOptions.runtime ?? runtime ?? {} };
      try {
        return evaluateExpression(value, context, {
          javascript,
          expressionLib,
          timeoutMs: DEFAULT_EXPRESSION_TIMEOUT_MS,
          trimWhitespace: callOptions.keepWhitespace !== true,
        });
      } catch (error) {
        if (error instanceof PilotError) throw error;
        throw new CwlExecutionError(
          'CWL_EXPRESSION_FAILED',
          `expression ${JSON.stringify(value.slice(0, 200))} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
  };
}
