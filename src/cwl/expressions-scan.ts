/**
 * Splits a CWL field value into literal text and `$(...)` / `${...}` expressions, following the
 * escaping rules of CWL v1.2 ("String interpolation"): `\$(` and `\${` are a literal `$(` and
 * `${`, `\\` is one backslash, and any other backslash is kept as it is.
 */
import { CwlValidationError } from '../errors.js';

/** One piece of a scanned field value. */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | {
      kind: 'expression';
      /** The whole expression including `$(` and `)`, or `${` and `}`. */
      source: string;
      /** The code between the delimiters. */
      code: string;
      /** True for `${...}` (a function body), false for `$(...)` (an expression). */
      isFunctionBody: boolean;
    };

/** Error code of a field value whose expressions cannot be scanned or parsed. */
export const EXPRESSION_INVALID = 'CWL_EXPRESSION_INVALID';

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Keywords after which a `/` starts a regular expression literal, not a division. */
const REGEX_KEYWORDS = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** Shortens text for error messages to at most `max` characters. */
export function shortenText(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, ' ');
  if (oneLine.length <= max) return oneLine;
  return `${oneLine.slice(0, max - 3)}...`;
}

/**
 * Splits `text` into literal text and expressions, applying the backslash escapes to the
 * literal text. Adjacent literal pieces are merged.
 *
 * NOTE: CWL v1.0 and v1.1 documents had another rule, where a backslash escaped any
 * character; only the v1.2 rule is implemented.
 *
 * @throws CwlValidationError with code `CWL_EXPRESSION_INVALID` when an expression is not
 *   closed or its brackets do not match.
 */
export function scanTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;

  while (i < text.length) {
    const char = text[i];
    const next = text[i + 1];

    if (char === '\\') {
      if (next === '$' && (text[i + 2] === '(' || text[i + 2] === '{')) {
        literal += `$${text[i + 2]}`;
        i += 3;
      } else if (next === '\\') {
        literal += '\\';
        i += 2;
      } else {
        literal += '\\';
        i += 1;
      }
      continue;
    }

    if (char === '$' && (next === '(' || next === '{')) {
      const end = findClosingBracket(text, i + 1);
      if (literal !== '') parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push({
        kind: 'expression',
        source: text.slice(i, end + 1),
        code: text.slice(i + 2, end),
        isFunctionBody: next === '{',
      });
      i = end + 1;
      continue;
    }

    literal += char;
    i += 1;
  }

  if (literal !== '') parts.push({ kind: 'text', text: literal });
  return parts;
}

/**
 * Returns the index of the bracket that closes the one at `open`, skipping JavaScript strings,
 * template literals, comments and regular expression literals.
 */
function findClosingBracket(text: string, open: number): number {
  const stack: string[] = [];
  // Each template literal with a `${` open inside it records the stack depth to return to.
  const templateDepths: number[] = [];
  let previous = '';
  let i = open;

  while (i < text.length) {
    const char = text[i] as string;

    if (char === '"' || char === "'") {
      i = skipQuoted(text, i, open);
      previous = 'a';
      continue;
    }
    if (char === '`') {
      i = skipTemplateText(text, i + 1, open, stack, templateDepths);
      previous = 'a';
      continue;
    }
    if (char === '/' && text[i + 1] === '/') {
      i = skipLineComment(text, i);
      continue;
    }
    if (char === '/' && text[i + 1] === '*') {
      i = skipBlockComment(text, i, open);
      continue;
    }
    if (char === '/' && isRegexAllowed(previous)) {
      i = skipRegex(text, i, open);
      previous = 'a';
      continue;
    }

    if (char in CLOSERS) {
      stack.push(CLOSERS[char] as string);
    } else if (char === ')' || char === ']' || char === '}') {
      const expected = stack.pop();
      if (expected !== char) throw unbalanced(text, open, i);
      if (stack.length === 0) return i;
      if (char === '}' && templateDepths.at(-1) === stack.length) {
        templateDepths.pop();
        i = skipTemplateText(text, i + 1, open, stack, templateDepths);
        previous = 'a';
        continue;
      }
    }

    if (!/\s/.test(char)) previous = /[\w$]/.test(char) ? wordEndingAt(text, i) : char;
    i += 1;
  }

  throw unterminated(text, open);
}

/** Returns the identifier or number that ends at `end`, or `a` when it is not a keyword. */
function wordEndingAt(text: string, end: number): string {
  let start = end;
  while (start > 0 && /[\w$]/.test(text[start - 1] as string)) start -= 1;
  const word = text.slice(start, end + 1);
  return REGEX_KEYWORDS.has(word) ? word : 'a';
}

/**
 * Decides from the previous significant token whether a `/` starts a regular expression.
 * NOTE: this is the usual one-token heuristic; `}` followed by `/` counts as a regular
 * expression, so `{}/2` as a division inside an expression is misread.
 */
function isRegexAllowed(previous: string): boolean {
  if (previous === '' || REGEX_KEYWORDS.has(previous)) return true;
  return '(,=:[!&|?{};+-*%<>~^}'.includes(previous);
}

function skipQuoted(text: string, start: number, open: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') i += 2;
    else if (char === quote) return i + 1;
    else i += 1;
  }
  throw unterminated(text, open);
}

/**
 * Skips template literal text from `start` up to its closing backtick, or up to a `${`, in
 * which case the code scanner continues with the substitution and comes back here at its `}`.
 */
function skipTemplateText(
  text: string,
  start: number,
  open: number,
  stack: string[],
  templateDepths: number[],
): number {
  let i = start;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') {
      i += 2;
    } else if (char === '`') {
      return i + 1;
    } else if (char === '$' && text[i + 1] === '{') {
      templateDepths.push(stack.length);
      stack.push('}');
      return i + 2;
    } else {
      i += 1;
    }
  }
  throw unterminated(text, open);
}

function skipLineComment(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end === -1 ? text.length : end;
}

function skipBlockComment(text: string, start: number, open: number): number {
  const end = text.indexOf('*/', start + 2);
  if (end === -1) throw unterminated(text, open);
  return end + 2;
}

function skipRegex(text: string, start: number, open: number): number {
  let inClass = false;
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') {
      i += 2;
      continue;
    }
    if (char === '\n') throw unterminated(text, open);
    if (char === '/' && !inClass) return i + 1;
    if (char === '[') inClass = true;
    if (char === ']') inClass = false;
    i += 1;
  }
  throw unterminated(text, open);
}

function unterminated(text: string, open: number): CwlValidationError {
  const start = text.slice(open - 1);
  return new CwlValidationError(
    EXPRESSION_INVALID,
    `Expression "${shortenText(start)}" is not closed: add the missing bracket or quote, ` +
      'or write \\$( to keep a literal $( in the text.',
  );
}

function unbalanced(text: string, open: number, at: number): CwlValidationError {
  const source = text.slice(open - 1, at + 1);
  return new CwlValidationError(
    EXPRESSION_INVALID,
    `Expression "${shortenText(source)}" has an unmatched "${text[at]}" at offset ${at}: ` +
      'fix the brackets of the expression.',
  );
}
