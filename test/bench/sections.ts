/**
 * Sections of `npm run bench` that `--only` selects, and the merge that lets a partial run
 * update its own sections of BENCHMARKS.md while keeping the others from the earlier page.
 */

export const SECTION_NAMES = ['startup', 'suite', 'scatter', 'pilot', 'packing'] as const;

export type SectionName = (typeof SECTION_NAMES)[number];

/** Starts of the `##` headings that each benchmark section writes on the page. */
const HEADINGS: Record<SectionName, string[]> = {
  startup: ['## Start-up'],
  suite: ['## CWL v1.2 conformance suite'],
  scatter: ['## Scatter over'],
  pilot: ['## Pilot overhead per job', '## Pilot throughput', '## Pilot memory', '## Bundle'],
  packing: ['## Output sandbox packing and upload'],
};

const MACHINE_HEADING = '## Machine';

/** Rows of the machine table that must match for sections of two runs to share one page. */
const MACHINE_ROWS = ['| Node |', '| CPU |', '| Memory |'];

const RERUN_INTRO = 'Sections measured again later with `--only`, on the same machine:';

/**
 * Parses the value of `--only`, a comma-separated list of section names. Without a value every
 * section runs. Throws naming the unknown section and the valid ones.
 */
export function parseSections(value: string | undefined): Set<SectionName> {
  if (value === undefined) return new Set(SECTION_NAMES);
  const sections = new Set<SectionName>();
  for (const item of value.split(',').map((name) => name.trim())) {
    if (item === '') continue;
    if (!(SECTION_NAMES as readonly string[]).includes(item)) {
      throw new Error(
        `--only "${item}" is not a section. Give some of ${SECTION_NAMES.join(',')}.`,
      );
    }
    sections.add(item as SectionName);
  }
  if (sections.size === 0)
    throw new Error(`--only is empty. Give some of ${SECTION_NAMES.join(',')}.`);
  return sections;
}

interface PageBlock {
  /** The `##` heading line, or '' for the text before the first heading. */
  heading: string;
  lines: string[];
}

/**
 * Returns the page to write. A run of every section returns `fresh` with one blank line between sections. A partial run
 * takes the sections it ran from `fresh` and every other section, the header and the machine
 * table from `previous`, and lists the sections it ran, with `date` and `loadAverage`, under the
 * header. Throws when `previous` was measured on another machine, because its figures and the
 * new ones would then share one machine table.
 */
export function mergePage(
  fresh: string,
  previous: string | undefined,
  sections: Set<SectionName>,
  run: { date: string; loadAverage: number },
): string {
  const partial = sections.size < SECTION_NAMES.length;
  const freshBlocks = splitPage(fresh);
  const ran = (block: PageBlock): boolean => ownerOf(block) !== undefined && ranBy(block, sections);
  if (!partial) return joinPage(freshBlocks);
  if (previous === undefined) {
    // No earlier page: keep the header, the machine and what this run measured.
    const measured = freshBlocks.filter(
      (block) => block.heading === '' || block.heading === MACHINE_HEADING || ran(block),
    );
    return joinPage(measured);
  }

  const previousBlocks = splitPage(previous);
  checkSameMachine(freshBlocks, previousBlocks);
  const merged: PageBlock[] = [];
  for (const block of freshBlocks) {
    if (ran(block)) {
      merged.push(block);
      continue;
    }
    const old = previousBlocks.find((item) => sameSection(item, block));
    if (old !== undefined) merged.push(old);
  }
  // Sections the current code no longer writes stay at the end rather than being lost.
  for (const old of previousBlocks) {
    if (!merged.some((block) => sameSection(block, old))) merged.push(old);
  }
  merged[0] = noteRerun(merged[0]!, sections, run);
  return joinPage(merged);
}

function splitPage(text: string): PageBlock[] {
  const blocks: PageBlock[] = [{ heading: '', lines: [] }];
  for (const line of text.replace(/\n+$/, '').split('\n')) {
    if (line.startsWith('## ')) blocks.push({ heading: line, lines: [] });
    blocks[blocks.length - 1]!.lines.push(line);
  }
  return blocks;
}

function joinPage(blocks: PageBlock[]): string {
  return `${blocks.map((block) => block.lines.join('\n').replace(/\n+$/, '')).join('\n\n')}\n`;
}

function ownerOf(block: PageBlock): SectionName | undefined {
  return SECTION_NAMES.find((name) =>
    HEADINGS[name].some((start) => block.heading.startsWith(start)),
  );
}

function ranBy(block: PageBlock, sections: Set<SectionName>): boolean {
  const owner = ownerOf(block);
  return owner !== undefined && sections.has(owner);
}

/** True when both blocks are the same section, even when a count in the heading changed. */
function sameSection(a: PageBlock, b: PageBlock): boolean {
  if (a.heading === b.heading) return true;
  const owner = ownerOf(a);
  if (owner === undefined || owner !== ownerOf(b)) return false;
  const start = HEADINGS[owner].find((prefix) => a.heading.startsWith(prefix));
  return start !== undefined && b.heading.startsWith(start);
}

function checkSameMachine(fresh: PageBlock[], previous: PageBlock[]): void {
  const rows = (blocks: PageBlock[]): string[] => {
    const machine = blocks.find((block) => block.heading === MACHINE_HEADING);
    return (machine?.lines ?? []).filter((line) =>
      MACHINE_ROWS.some((row) => line.startsWith(row)),
    );
  };
  const now = rows(fresh).join('\n');
  const before = rows(previous).join('\n');
  if (now !== before) {
    throw new Error(
      'the existing page was measured on another machine or Node version. Run every section ' +
        '(no --only) or write elsewhere with --out.',
    );
  }
}

/** Adds or updates, in the page's header, one line per section this run measured. */
function noteRerun(
  header: PageBlock,
  sections: Set<SectionName>,
  run: { date: string; loadAverage: number },
): PageBlock {
  const introIndex = header.lines.indexOf(RERUN_INTRO);
  const base = introIndex === -1 ? header.lines : header.lines.slice(0, introIndex);
  const notes = new Map<string, string>();
  if (introIndex !== -1) {
    for (const line of header.lines.slice(introIndex + 1)) {
      const name = /^- `(\w+)`/.exec(line)?.[1];
      if (name !== undefined) notes.set(name, line);
    }
  }
  for (const name of sections) {
    notes.set(name, `- \`${name}\`: ${run.date}, load average ${run.loadAverage.toFixed(2)}`);
  }
  const ordered = SECTION_NAMES.filter((name) => notes.has(name)).map((name) => notes.get(name)!);
  const trimmed = base.join('\n').replace(/\n+$/, '').split('\n');
  return { heading: '', lines: [...trimmed, '', RERUN_INTRO, '', ...ordered] };
}
