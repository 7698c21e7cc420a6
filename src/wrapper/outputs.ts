import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCwlYaml } from '../cwl/yaml.js';

/**
 * Reads the output ids that a DIRAC hint selects for the output sandbox. Both the current
 * `dirac:Job {output_sandbox: [{source}]}` and the older `dirac:ExecutionHooks` /
 * `dirac:Scheduling {output_sandbox: [ids]}` forms are read. Returns undefined when no hint
 * selects outputs, which means every output goes into the sandbox.
 */
export function selectSandboxOutputs(documentText: string): Set<string> | undefined {
  let document: unknown;
  try {
    document = parseCwlYaml(documentText);
  } catch {
    return undefined;
  }
  const entries = collectHints(document);
  let selected: Set<string> | undefined;
  for (const hint of entries) {
    const list = hint.output_sandbox;
    if (!Array.isArray(list)) continue;
    selected ??= new Set();
    for (const item of list) {
      const source = typeof item === 'string' ? item : (item as { source?: unknown })?.source;
      if (typeof source === 'string') selected.add(source.replace(/^#/, ''));
    }
  }
  return selected;
}

function collectHints(document: unknown): Record<string, unknown>[] {
  if (document === null || typeof document !== 'object') return [];
  const record = document as Record<string, unknown>;
  const graph = Array.isArray(record.$graph) ? record.$graph : [record];
  const hints: Record<string, unknown>[] = [];
  for (const process of graph) {
    const raw = (process as Record<string, unknown> | null)?.hints;
    if (Array.isArray(raw)) {
      hints.push(...raw.filter((hint) => hint && typeof hint === 'object'));
    } else if (raw && typeof raw === 'object') {
      hints.push(
        ...(Object.values(raw as Record<string, unknown>).filter(
          (hint) => hint && typeof hint === 'object',
        ) as Record<string, unknown>[]),
      );
    }
  }
  return hints.filter((hint) => {
    const cls = String(hint.class ?? '');
    return (
      /(^|[:#/])(Job|ExecutionHooks|Scheduling)$/.test(cls) || hint.output_sandbox !== undefined
    );
  });
}

/** An output object prepared for the output sandbox, and the files it needs. */
export interface SandboxOutputs {
  /** Output object whose File and Directory locations are relative to the sandbox root. */
  outputs: Record<string, unknown>;
  /** Paths, relative to the sandbox root, of every file and folder the outputs name. */
  members: string[];
}

/**
 * Keeps the selected outputs (every stdout and stderr output is always kept) and rewrites
 * their `file://` locations relative to `sandboxRoot`. A `path` is dropped because it is
 * meaningless off this node.
 */
export function prepareSandboxOutputs(
  outputs: Record<string, unknown>,
  sandboxRoot: string,
  selection: Set<string> | undefined,
  streamOutputIds: ReadonlySet<string>,
): SandboxOutputs {
  const members = new Set<string>();
  const kept: Record<string, unknown> = {};
  for (const [id, value] of Object.entries(outputs)) {
    if (selection && !selection.has(id) && !streamOutputIds.has(id)) continue;
    kept[id] = relocate(value, sandboxRoot, members);
  }
  return { outputs: kept, members: [...members].sort() };
}

function relocate(value: unknown, root: string, members: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => relocate(item, root, members));
  if (value === null || typeof value !== 'object') return value;

  const object = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    if (key === 'path') continue;
    copy[key] = relocate(item, root, members);
  }
  const isFileLike = object.class === 'File' || object.class === 'Directory';
  if (isFileLike && typeof object.location === 'string') {
    const absolute = object.location.startsWith('file://')
      ? fileURLToPath(object.location)
      : object.location;
    const rel = relative(root, absolute).split(sep).join('/');
    if (!rel.startsWith('..')) {
      copy.location = rel;
      members.add(rel);
    }
  }
  return copy;
}

/** Returns the ids of the outputs whose type is `stdout` or `stderr`. */
export function streamOutputIds(documentText: string): Set<string> {
  const ids = new Set<string>();
  let document: unknown;
  try {
    document = parseCwlYaml(documentText);
  } catch {
    return ids;
  }
  const record = (document ?? {}) as Record<string, unknown>;
  const processes = Array.isArray(record.$graph) ? record.$graph : [record];
  for (const process of processes as Record<string, unknown>[]) {
    const outputs = process?.outputs;
    const entries = Array.isArray(outputs)
      ? outputs.map((output) => [String(output?.id ?? ''), output?.type] as const)
      : Object.entries((outputs ?? {}) as Record<string, unknown>).map(
          ([id, output]) =>
            [
              id,
              typeof output === 'string' ? output : (output as { type?: unknown })?.type,
            ] as const,
        );
    for (const [id, type] of entries) {
      if (type === 'stdout' || type === 'stderr') ids.add(id.replace(/^#/, ''));
    }
  }
  return ids;
}
