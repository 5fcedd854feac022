/**
 * What every benchmark section returns and how it is shown: sample statistics (median, p95), an
 * aligned plain-text table for the terminal and a Markdown table for docs/benchmarks.md.
 *
 * Invariants:
 * - A section never invents a figure: a value that was not measured is `null` and prints as "—",
 *   and the reason goes in the table's notes.
 * - `metrics` holds the few headline numbers other parts of the report (targets, README table)
 *   read by name; tables are for humans and may change shape freely.
 */

export type Cell = string | number | null

export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
  /** How the figures were obtained, caveats, and why a cell is empty. */
  notes: string[]
}

export const SECTION_NAMES = [
  'ingest',
  'lake',
  'kafka',
  'freshness',
  'queries',
  'storage',
  'memory',
  'scaling',
  'objectstore',
  'dashboard',
  'maintenance',
] as const
export type SectionName = (typeof SECTION_NAMES)[number]

export interface SectionResult {
  section: SectionName
  title: string
  seconds: number
  tables: Table[]
  /** Headline numbers by stable name; `null` when not measured. */
  metrics: Record<string, number | null>
  /** Whatever a section wants to keep verbatim in the JSON (e.g. a child benchmark's own JSON). */
  raw?: unknown
}

/** Settings shared by every section. */
export interface BenchContext {
  quick: boolean
  /** Scratch folder of this run; removed at the end. */
  tmp: string
  /** Progress lines for the terminal (stderr), never part of the results. */
  log: (message: string) => void
}

export interface Summary {
  n: number
  median: number
  p95: number
  min: number
  max: number
}

/** The p-th percentile (0–100) by linear interpolation between closest ranks. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (rank - lo)
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: percentile(samples, 50),
    p95: percentile(samples, 95),
    min: samples.length === 0 ? Number.NaN : Math.min(...samples),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  }
}

/** `a / b`, or null when either side is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null
  return a / b
}

/** Rounds to a precision that suits the magnitude: 3 significant digits, integers above 1000. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n
  const abs = Math.abs(n)
  if (abs >= 1000) return Math.round(n)
  if (abs >= 100) return Math.round(n * 10) / 10
  if (abs >= 1) return Math.round(n * 100) / 100
  return Number(n.toPrecision(3))
}

function cellText(c: Cell): string {
  if (c === null) return '—'
  if (typeof c === 'string') return c
  if (!Number.isFinite(c)) return '—'
  const r = round(c)
  return Math.abs(r) >= 10_000 ? r.toLocaleString('en-US') : String(r)
}

/** An aligned plain-text table: text columns left-aligned, numeric columns right-aligned. */
export function formatTable(t: Table): string {
  const text = t.rows.map((r) => t.columns.map((_, i) => cellText(r[i] ?? null)))
  const numeric = t.columns.map((_, i) => t.rows.some((r) => typeof r[i] === 'number'))
  const widths = t.columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()
  const out = [
    t.title,
    line(t.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map(line),
    ...t.notes.map((n) => `  · ${n}`),
  ]
  return out.join('\n')
}

export function formatMarkdown(t: Table): string {
  const esc = (s: string): string => s.replaceAll('|', '\\|')
  const numeric = t.columns.map((_, i) => t.rows.some((r) => typeof r[i] === 'number'))
  const out = [
    `**${esc(t.title)}**`,
    '',
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${t.columns.map((_, i) => esc(cellText(r[i] ?? null))).join(' | ')} |`),
  ]
  if (t.notes.length > 0) out.push('', ...t.notes.map((n) => `- ${n}`))
  return out.join('\n')
}

/** Runs `fn` `runs` times after `warmup` untimed runs; returns the timed durations in ms. */
export async function timeRuns(
  runs: number,
  fn: (run: number) => Promise<void>,
  warmup = 0,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i)
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await fn(i)
    ms.push(performance.now() - started)
  }
  return ms
}
