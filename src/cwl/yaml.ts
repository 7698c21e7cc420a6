/**
 * YAML for CWL documents and input objects.
 *
 * These are parsed with js-yaml rather than the `yaml` package that reads the pilot's own
 * settings, for two reasons. It accepts what cwltool's ruamel.yaml accepts where `yaml` is
 * stricter: a flow sequence continued on a line indented no deeper than its key. And, measured here
 * on a small tool, it parses in about a third of the time on a cold start, where a short
 * `exec` run spends much of its time.
 */
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';

/**
 * Parses `text` with the YAML 1.2 core schema: no timestamps, binary or merge keys. A key given
 * twice keeps its last value, as in ruamel.yaml and JSON.parse. Throws YAMLException.
 */
export function parseCwlYaml(text: string): unknown {
  return load(text, { schema: CORE_SCHEMA, json: true });
}

/**
 * Describes a YAML syntax error in `file` as one line, "invalid YAML in FILE at line L, column C:
 * REASON", followed by the source excerpt that js-yaml gives, indented, which ends with the
 * offending line and a caret under the column.
 */
export function describeYamlError(file: string, error: unknown): string {
  if (!(error instanceof YAMLException)) {
    return `invalid YAML in ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
  const reason = error.reason;
  const mark = error.mark as { line?: number; column?: number; snippet?: string } | undefined;
  if (mark?.line === undefined || mark.column === undefined) {
    return `invalid YAML in ${file}: ${reason}`;
  }
  const headline = `invalid YAML in ${file} at line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`;
  const snippet = (mark.snippet ?? '').replace(/^\n+|\s+$/g, '');
  if (snippet === '') return headline;
  return [headline, ...snippet.split('\n').map((line) => `    ${line}`)].join('\n');
}
