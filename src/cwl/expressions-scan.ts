/**
 * Splits a CWL field value into literal text and `$(...)` / `${...}` expressions. The escaping
 * rules follow the "String interpolation" section of CWL v1.2: `\$(` and `\${` are a literal
 * `$(` and `${`, and `\\` is one backslash. Any other backslash is kept as it is.
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
    const char = text[i] as string;
    const next = text[i + 1];

    if (char === '\\') {
      const escape = readEscape(text, i);
      literal += escape.text;
      i += escape.length;
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

/** Reads the escape at the backslash at `start`: `\$(`, `\${`, `\\` or a lone backslash. */
function readEscape(text: string, start: number): { text: string; length: number } {
  const next = text[start + 1];
  const third = text[start + 2];
  if (next === '$' && (third === '(' || third === '{')) return { text: `$${third}`, length: 3 };
  if (next === '\\') return { text: '\\', length: 2 };
  return { text: '\\', length: 1 };
}

/** State of the search for the end of one expression. */
interface BracketScan {
  text: string;
  /** Index of the opening bracket, for error messages. */
  open: number;
  /** Closing brackets expected, innermost last. */
  stack: string[];
  /** Stack depths at which a template literal continues after its `${...}` closes. */
  templateDepths: number[];
  /** The previous significant token: a punctuator, a keyword, or `a` for any operand. */
  previous: string;
}

/**
 * Returns the index of the bracket that closes the one at `open`, skipping JavaScript strings,
 * template literals, comments and regular expression literals.
 */
function findClosingBracket(text: string, open: number): number {
  const scan: BracketScan = { text, open, stack: [], templateDepths: [], previous: '' };
  let i = open;

  while (i < text.length) {
    const skipped = skipLiteral(scan, i);
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }

    const char = text[i] as string;
    if (char in CLOSERS) {
      scan.stack.push(CLOSERS[char] as string);
    } else if (char === ')' || char === ']' || char === '}') {
      if (scan.stack.pop() !== char) throw unbalanced(text, open, i);
      if (scan.stack.length === 0) return i;
      if (char === '}' && scan.templateDepths.at(-1) === scan.stack.length) {
        scan.templateDepths.pop();
        i = skipTemplateText(scan, i + 1);
        scan.previous = 'a';
        continue;
      }
    }

    if (!/\s/.test(char)) scan.previous = /[\w$]/.test(char) ? wordEndingAt(text, i) : char;
    i += 1;
  }

  throw unterminated(text, open);
}

/**
 * Skips a string, template literal, comment or regular expression literal that starts at `i`
 * and returns the index after it, or undefined when none starts there.
 */
function skipLiteral(scan: BracketScan, i: number): number | undefined {
  const { text, open } = scan;
  const char = text[i];
  const next = text[i + 1];

  if (char === '"' || char === "'") {
    scan.previous = 'a';
    return skipQuoted(text, i, open);
  }
  if (char === '`') {
    scan.previous = 'a';
    return skipTemplateText(scan, i + 1);
  }
  if (char !== '/') return undefined;
  if (next === '/') return skipLineComment(text, i);
  if (next === '*') return skipBlockComment(text, i, open);
  if (!isRegexAllowed(scan.previous)) return undefined;
  scan.previous = 'a';
  return skipRegex(text, i, open);
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
 * NOTE: this is the usual one-token heuristic. It takes `}` followed by `/` as the start of a
 * regular expression, so a division such as `{}/2` inside an expression is misread.
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
function skipTemplateText(scan: BracketScan, start: number): number {
  const { text } = scan;
  let i = start;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') {
      i += 2;
    } else if (char === '`') {
      return i + 1;
    } else if (char === '$' && text[i + 1] === '{') {
      scan.templateDepths.push(scan.stack.length);
      scan.stack.push('}');
      return i + 2;
    } else {
      i += 1;
    }
  }
  throw unterminated(text, scan.open);
}

function skipLineComment(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end === -1 ? text.length : end;
}

function skipBlockComment(text: string, start: number, open: number): number {
  // Each star is checked for a slash after it. Searching for the two-character string would put
  // a comment end into the bundle, which keeps this code inside a block comment.
  let end = text.indexOf('*', start + 2);
  while (end !== -1 && text[end + 1] !== '/') end = text.indexOf('*', end + 1);
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
