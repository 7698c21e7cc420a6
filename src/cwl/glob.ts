/**
 * Output globbing inside a tool's output folder: `*`, `?` and `[...]` within one path
 * segment, and `**` across segments. Patterns that point outside
 * the folder are rejected.
 */
import { readdir, stat } from './async-fs.js';
import path from 'node:path';
import { CwlExecutionError } from '../errors.js';

/**
 * Returns the sorted absolute paths under `root` that match `pattern`. An absolute pattern is
 * accepted when it points inside `root`. Throws CwlExecutionError for a pattern that escapes
 * `root`.
 */
export async function globOutputs(root: string, pattern: string): Promise<string[]> {
  const relative = path.isAbsolute(pattern) ? path.relative(root, pattern) : pattern;
  const normalised = path.posix.normalize(relative === '' ? '.' : relative);
  if (normalised === '..' || normalised.startsWith('../') || path.isAbsolute(normalised)) {
    throw new CwlExecutionError(
      'CWL_GLOB_OUTSIDE_OUTDIR',
      `output glob ${JSON.stringify(pattern)} points outside the output folder ${root}`,
    );
  }
  if (normalised === '.') return [root];

  const segments = normalised.split('/').filter((segment) => segment !== '' && segment !== '.');
  const matches = await matchSegments(root, segments);
  const existing = await keepExisting(matches);
  return existing.sort();
}

async function matchSegments(dir: string, segments: string[]): Promise<string[]> {
  const [segment, ...rest] = segments;
  if (segment === undefined) return [dir];

  if (segment === '**') {
    const atThisLevel = await matchSegments(dir, rest);
    const inSubfolders: string[] = [];
    for (const child of await listDirectories(dir)) {
      inSubfolders.push(...(await matchSegments(child, segments)));
    }
    return [...new Set([...atThisLevel, ...inSubfolders])];
  }

  if (!/[*?[]/.test(segment)) {
    const candidate = path.join(dir, segment);
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!names.includes(segment)) return [];
    return matchSegments(candidate, rest);
  }

  const regex = segmentToRegex(segment);
  const names = await readdir(dir).catch(() => [] as string[]);
  const results: string[] = [];
  for (const name of names) {
    if (regex.test(name)) results.push(...(await matchSegments(path.join(dir, name), rest)));
  }
  return results;
}

async function listDirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(dir, entry.name));
}

/** Converts one glob segment to a regular expression; a leading dot must be matched literally. */
export function segmentToRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const hidden = segment.startsWith('.') ? '' : '(?!\\.)';
  return new RegExp(`^${hidden}${source}$`);
}

/** Drops broken symbolic links, which match by name but have nothing to collect. */
async function keepExisting(matches: string[]): Promise<string[]> {
  const existing: string[] = [];
  for (const match of matches) {
    if ((await stat(match).catch(() => undefined)) !== undefined) existing.push(match);
  }
  return existing;
}
