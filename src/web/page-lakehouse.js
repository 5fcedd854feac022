// @ts-check
/**
 * Lakehouse (`/lakehouse`): the tables, the partition tree of the quotes table (year → month →
 * day → source → crypto) with files, rows, bytes and a compression estimate per node, the data
 * files of a chosen partition with their statistics, and the schema with the version each column
 * appeared in (schema evolution).
 *
 * Compression is estimated against the plain in-memory size of the rows (8 bytes per number or
 * timestamp, 4 per int, ~12 per string, from the table's column types): the Parquet footers hold
 * the exact uncompressed size, but reading them would cost a request per file.
 */
import { getJson } from './api.js'
import { guarded, h, panel, table, td } from './dom.js'
import * as format from './format.js'

/** @type {Record<string, number>} */
const RAW_BYTES = {
  double: 8,
  long: 8,
  timestamp: 8,
  timestamp_ntz: 8,
  integer: 4,
  int: 4,
  float: 4,
  short: 2,
  byte: 1,
  boolean: 1,
  date: 4,
  string: 12,
}

/** @param {any[]} columns catalog columns */
function rawRowBytes(columns) {
  return columns.filter((c) => !c.partition).reduce((n, c) => n + (RAW_BYTES[c.type] ?? 8), 0)
}

/** @param {number} rows @param {number} bytes @param {number} rowBytes */
function ratio(rows, bytes, rowBytes) {
  return bytes > 0 && rows > 0 ? `×${((rows * rowBytes) / bytes).toFixed(1)}` : '—'
}

/**
 * @param {HTMLElement} view
 * @param {{}} _params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountLakehouse(view, _params, ctx) {
  const tables = panel('tables-panel', 'Tables')
  const tablesTable = table('Tables of the warehouse', [
    { label: 'Table' },
    { label: 'Version', numeric: true },
    { label: 'Rows', numeric: true },
    { label: 'Files', numeric: true },
    { label: 'Bytes', numeric: true },
    { label: 'From (UTC)' },
    { label: 'To (UTC)' },
  ])
  tablesTable.tbody.id = 'tables-rows'
  tables.body.append(tablesTable.element)
  const tree = panel('tree-panel', 'Partitions of quotes')
  const treeRoot = h('div', { id: 'partition-tree', class: 'tree' })
  tree.body.append(
    h('p', {
      class: 'muted',
      text: 'year → month → day → source → crypto. Choose a crypto to list its files. Compression is estimated against 8-byte columns.',
    }),
    treeRoot,
  )
  const files = panel('files-panel', 'Files')
  const filesInfo = h('p', { class: 'muted', id: 'files-info', text: 'Choose a partition in the tree.' })
  const filesTable = table('Data files of the chosen partition', [
    { label: 'Path' },
    { label: 'Rows', numeric: true },
    { label: 'Size', numeric: true },
    { label: 'Bytes/row', numeric: true },
    { label: 'First quote (UTC)' },
    { label: 'Last quote (UTC)' },
  ])
  filesTable.tbody.id = 'files-rows'
  files.body.append(filesInfo, filesTable.element)
  const schema = panel('schema-panel', 'Schema of quotes')
  const schemaTable = table('Columns of the quotes table and the version that added each', [
    { label: 'Column' },
    { label: 'Type' },
    { label: 'Nullable' },
    { label: 'Partition' },
    { label: 'Since version', numeric: true },
  ])
  schemaTable.tbody.id = 'schema-rows'
  const evolution = h('ul', { id: 'schema-evolution', class: 'plain' })
  schema.body.append(schemaTable.element, h('h3', { text: 'Schema history' }), evolution)
  view.append(
    h('h1', { text: 'Lakehouse' }),
    tables.section,
    h('div', { class: 'grid two' }, tree.section, schema.section),
    files.section,
  )

  let rowBytes = 100

  /** @param {Record<string, string>} path partition values from the root */
  async function showFiles(path) {
    await guarded(files, async () => {
      const day = Date.UTC(Number(path['year']), Number(path['month']) - 1, Number(path['day']))
      const answer = await getJson(
        '/api/v1/files',
        {
          crypto: path['crypto'],
          sources: path['source'],
          start: new Date(day).toISOString(),
          end: new Date(day + 86_399_999).toISOString(),
          limit: 500,
        },
        { signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      filesInfo.textContent = `${path['source']}/${path['crypto']} on ${path['year']}-${path['month']}-${path['day']}: ${answer.count} of ${answer.files_total} files in version ${answer.version}.`
      filesTable.tbody.replaceChildren(
        ...answer.files.map((/** @type {any} */ f) =>
          h(
            'tr',
            {},
            td(h('code', { text: f.path })),
            td(format.integer(f.rows), 'num'),
            td(format.bytes(f.size), 'num'),
            td(f.rows ? format.integer(f.size / f.rows) : '—', 'num'),
            td(format.dateTime(f.min_ts)),
            td(format.dateTime(f.max_ts)),
          ),
        ),
      )
    })
  }

  /**
   * @param {any} node
   * @param {Record<string, string>} path
   * @returns {HTMLElement}
   */
  function treeNode(node, path) {
    const here = { ...path, [node.column]: String(node.value) }
    const stats = h(
      'span',
      { class: 'stats muted' },
      `${format.integer(node.files)} files · ${format.integer(node.rows)} rows · ${format.bytes(node.bytes)} · ${ratio(node.rows, node.bytes, rowBytes)}`,
    )
    const label = h(
      'span',
      { class: 'node-label' },
      h('span', { class: 'column', text: `${node.column}=` }),
      h('strong', { text: String(node.value) }),
    )
    if (node.children.length === 0) {
      const button = h(
        'button',
        { type: 'button', class: 'leaf', 'data-partition': Object.values(here).join('/') },
        label,
        stats,
      )
      button.addEventListener('click', () => {
        for (const b of treeRoot.querySelectorAll('button.leaf[aria-pressed]'))
          b.removeAttribute('aria-pressed')
        button.setAttribute('aria-pressed', 'true')
        void showFiles(here)
      })
      return h('li', {}, button)
    }
    // Children are built when their branch is first opened: a year of 100 assets is 36,500
    // leaves, far more DOM than anyone looks at.
    const open = node.column === 'year' || node.column === 'month'
    const list = h('ul')
    const details = h('details', { open }, h('summary', {}, label, stats), list)
    let built = false
    const build = () => {
      if (built) return
      built = true
      list.append(...node.children.map((/** @type {any} */ c) => treeNode(c, here)))
    }
    if (open) build()
    else details.addEventListener('toggle', build)
    return h('li', {}, details)
  }

  async function load() {
    await guarded(tables, async () => {
      const catalog = await getJson('/api/v1/catalog', {}, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      tablesTable.tbody.replaceChildren(
        ...catalog.tables.map((/** @type {any} */ t) =>
          h(
            'tr',
            { 'data-table': t.name },
            td(t.name),
            td(format.integer(t.version), 'num'),
            td(format.integer(t.rows), 'num'),
            td(format.integer(t.files), 'num'),
            td(format.bytes(t.bytes), 'num'),
            td(format.dateTime(t.min_ts)),
            td(format.dateTime(t.max_ts)),
          ),
        ),
      )
      const quotes = catalog.tables.find((/** @type {any} */ t) => t.name === 'quotes')
      if (quotes === undefined) return
      rowBytes = rawRowBytes(quotes.columns)
      schemaTable.tbody.replaceChildren(
        ...quotes.columns.map((/** @type {any} */ c) =>
          h(
            'tr',
            {},
            td(h('code', { text: c.name })),
            td(c.type),
            td(c.nullable ? 'yes' : 'no'),
            td(c.partition ? 'yes' : ''),
            td(format.integer(c.since_version), 'num'),
          ),
        ),
      )
      /** @type {Map<number, string[]>} */
      const byVersion = new Map()
      for (const c of quotes.columns)
        byVersion.set(c.since_version, [...(byVersion.get(c.since_version) ?? []), c.name])
      evolution.replaceChildren(
        ...[...byVersion]
          .sort((a, b) => a[0] - b[0])
          .map(([version, names]) =>
            h(
              'li',
              {},
              h('strong', { text: `version ${version}` }),
              `: ${version === 0 ? 'created with' : 'added'} ${names.length} column${names.length === 1 ? '' : 's'} (${names.join(', ')})`,
            ),
          ),
      )
    })
    await guarded(tree, async () => {
      const answer = await getJson('/api/v1/catalog/partitions', { depth: 5 }, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      treeRoot.replaceChildren(
        answer.partitions.length === 0
          ? h('p', { class: 'muted', text: 'No data files yet.' })
          : h('ul', { role: 'list' }, ...answer.partitions.map((/** @type {any} */ p) => treeNode(p, {}))),
      )
      performance.mark('cryptoviz:data')
    })
  }

  void load()
}
