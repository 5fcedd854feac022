// @ts-check
/**
 * SQL (`/sql`): an editor with syntax highlighting (a transparent textarea over a highlighted
 * copy of its text; the textarea stays the real, accessible input), run with Ctrl+Enter or the
 * button, a results grid, CSV download of the results, errors shown in place, and a token field
 * once the server says it requires one. While time-travelling the query reads that version.
 *
 * Opening the page runs no query: on a big lake even `LIMIT 20` over the `quotes` view costs
 * seconds (DuckDB binds a view over every file), so the page first paints what the catalog
 * already knows (the tables, their columns, rows and files) and example queries, cheap ones
 * first; a query runs only when the user asks. Leaving the page aborts a running query's request
 * (the server then interrupts the statement).
 */
import { currentAsOf, getJson, postJson } from './api.js'
import { guarded, h, panel, table, td } from './dom.js'
import * as format from './format.js'

const TOKEN_KEY = 'cryptoviz.token'
const QUERY_KEY = 'cryptoviz.sql'
const DEFAULT_SQL = `-- Ctrl+Enter runs the query. Views: quotes, dead_letters.
SELECT ts, source, crypto, price_usd
FROM quotes
WHERE crypto = 'bitcoin'
LIMIT 20`

const KEYWORDS = new Set(
  'select from where group by order limit offset as and or not in is null like ilike between join left right inner outer full cross on using with union all distinct having case when then else end asc desc explain count sum min max avg cast true false over partition interval date timestamp'.split(
    ' ',
  ),
)
const TOKEN =
  /(--[^\n]*)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|(\s+)|(.)/gs

/**
 * The highlighted copy of `text` as nodes (spans with a token class; no markup is parsed).
 * @param {string} text
 */
export function highlight(text) {
  /** @type {Node[]} */
  const nodes = []
  for (const m of text.matchAll(TOKEN)) {
    const [token, comment, string, quoted, number, word] = m
    const kind = comment
      ? 'comment'
      : string
        ? 'string'
        : quoted
          ? 'ident'
          : number
            ? 'number'
            : word && KEYWORDS.has(word.toLowerCase())
              ? 'keyword'
              : undefined
    nodes.push(kind ? h('span', { class: `tok-${kind}`, text: token }) : document.createTextNode(token))
  }
  // A trailing newline needs a character after it to take up a line in the <pre>.
  nodes.push(document.createTextNode('\n '))
  return nodes
}

/**
 * Example queries for the tables the catalog lists, cheapest first: the first reads one day of
 * one asset (the partition columns prune the files); whole-table ones say that they are.
 * @param {any[]} tables the catalog's tables
 * @returns {{ title: string, sql: string }[]}
 */
export function exampleQueries(tables) {
  const quotes = tables.find((t) => t.name === 'quotes')
  /** @type {{ title: string, sql: string }[]} */
  const examples = []
  if (quotes?.max_ts) {
    const day = String(quotes.max_ts).slice(0, 10)
    const [year, month, dd] = day.split('-')
    examples.push({
      title: `Bitcoin on ${day}, newest first (one day's files)`,
      sql: `SELECT ts, source, price_usd\nFROM quotes\nWHERE crypto = 'bitcoin' AND year = '${year}' AND month = '${month}' AND day = '${dd}'\nORDER BY ts DESC\nLIMIT 20`,
    })
    examples.push({
      title: `Hourly average price per asset on ${day}`,
      sql: `SELECT crypto, date_trunc('hour', ts) AS hour, avg(price_usd) AS avg_price\nFROM quotes\nWHERE year = '${year}' AND month = '${month}' AND day = '${dd}'\nGROUP BY ALL\nORDER BY crypto, hour`,
    })
  }
  if (quotes) {
    examples.push({ title: 'Columns of the quotes view', sql: 'DESCRIBE quotes' })
    examples.push({
      title: 'Quotes per source (reads every file: slow on a big lake)',
      sql: 'SELECT source, count(*) AS quotes, min(ts) AS first, max(ts) AS last\nFROM quotes\nGROUP BY source',
    })
  }
  if (tables.some((t) => t.name === 'dead_letters')) {
    examples.push({
      title: 'Most recent dead letters and their reasons',
      sql: 'SELECT received_at, source, reason, detail\nFROM dead_letters\nORDER BY received_at DESC\nLIMIT 20',
    })
  }
  return examples
}

/** @param {unknown} v */
function csvField(v) {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/**
 * @param {HTMLElement} view
 * @param {{}} _params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountSql(view, _params, ctx) {
  const editorPanel = panel('sql-panel', 'Query')
  const textarea = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: 'sql-input',
      spellcheck: 'false',
      autocapitalize: 'off',
      autocomplete: 'off',
      rows: '8',
    })
  )
  textarea.value = window.sessionStorage.getItem(QUERY_KEY) ?? DEFAULT_SQL
  const highlighted = h('pre', { class: 'sql-highlight', 'aria-hidden': 'true' })
  const editor = h('div', { class: 'sql-editor' }, highlighted, textarea)
  const run = h('button', { type: 'button', id: 'sql-run', class: 'primary', text: 'Run (Ctrl+Enter)' })
  const download = /** @type {HTMLAnchorElement} */ (
    h('a', { id: 'sql-csv', class: 'button', hidden: true, text: 'Download CSV' })
  )
  const tokenInput = /** @type {HTMLInputElement} */ (
    h('input', { type: 'password', id: 'sql-token', autocomplete: 'off' })
  )
  tokenInput.value = window.sessionStorage.getItem(TOKEN_KEY) ?? ''
  const tokenField = h(
    'p',
    { class: 'token', id: 'sql-token-field', hidden: tokenInput.value === '' },
    h('label', { for: 'sql-token', text: 'API token (this server requires one for SQL)' }),
    tokenInput,
  )
  const error = h('p', { class: 'error sql-error', id: 'sql-error', role: 'alert', hidden: true })
  const info = h('p', { class: 'muted', id: 'sql-info', role: 'status' })
  editorPanel.body.append(
    h('label', {
      for: 'sql-input',
      class: 'sr-only',
      text: 'SQL query over the quotes and dead_letters views',
    }),
    h('p', { class: 'muted', text: 'Read-only SQL (DuckDB) over the views quotes and dead_letters.' }),
    editor,
    tokenField,
    h('div', { class: 'actions' }, run, download),
    error,
    info,
  )
  const results = panel('results-panel', 'Results')
  const grid = h('div', {
    class: 'scroll results',
    id: 'sql-results',
    tabindex: '0',
    role: 'region',
    'aria-label': 'Query results',
  })
  const resultsInfo = h('p', {
    class: 'muted',
    id: 'sql-placeholder',
    text: 'No query has run yet: pick an example or write one, then run it.',
  })
  results.body.append(resultsInfo, grid)
  const tablesPanel = panel('tables-panel', 'Tables')
  const tablesList = h('div', { id: 'sql-tables' })
  tablesPanel.body.append(tablesList)
  const examplesPanel = panel('examples-panel', 'Examples')
  const examplesList = h('ul', { class: 'examples', id: 'sql-examples' })
  examplesPanel.body.append(
    h('p', { class: 'muted', text: 'Puts the query in the editor; nothing runs until you do.' }),
    examplesList,
  )
  view.append(
    h('h1', { text: 'SQL console' }),
    h(
      'div',
      { class: 'grid two' },
      editorPanel.section,
      h('div', {}, examplesPanel.section, tablesPanel.section),
    ),
    results.section,
  )

  const paint = () => {
    highlighted.replaceChildren(...highlight(textarea.value))
    highlighted.scrollTop = textarea.scrollTop
    highlighted.scrollLeft = textarea.scrollLeft
  }
  textarea.addEventListener('input', () => {
    window.sessionStorage.setItem(QUERY_KEY, textarea.value)
    paint()
  })
  textarea.addEventListener('scroll', () => {
    highlighted.scrollTop = textarea.scrollTop
    highlighted.scrollLeft = textarea.scrollLeft
  })
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault()
      void execute()
    }
  })
  run.addEventListener('click', () => void execute())
  paint()

  /** @param {string} sql */
  const useExample = (sql) => {
    textarea.value = sql
    window.sessionStorage.setItem(QUERY_KEY, sql)
    paint()
    textarea.focus()
  }

  async function loadTables() {
    await guarded(tablesPanel, async () => {
      const asOf = currentAsOf()
      const catalog = await getJson('/api/v1/catalog', { asOf }, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      tablesList.replaceChildren(
        ...catalog.tables.map((/** @type {any} */ t) => {
          const columns = table(`Columns of ${t.name}`, [
            { label: 'Column' },
            { label: 'Type' },
            { label: 'Partition' },
          ])
          columns.tbody.replaceChildren(
            ...t.columns.map((/** @type {any} */ c) =>
              h('tr', {}, td(h('code', { text: c.name })), td(c.type), td(c.partition ? 'yes' : '')),
            ),
          )
          return h(
            'details',
            { class: 'sql-table', 'data-table': t.name, open: t.name === 'quotes' },
            h(
              'summary',
              {},
              h('code', { text: t.name }),
              ` · ${format.integer(t.rows)} rows in ${format.integer(t.files)} files, version ${t.version}`,
            ),
            columns.element,
          )
        }),
      )
      // An untouched editor starts on the cheapest example (one day's files), not the generic text.
      const cheapest = exampleQueries(catalog.tables)[0]
      if (cheapest && window.sessionStorage.getItem(QUERY_KEY) === null && textarea.value === DEFAULT_SQL) {
        textarea.value = `-- Ctrl+Enter runs the query. Views: quotes, dead_letters.\n${cheapest.sql}`
        paint()
      }
      examplesList.replaceChildren(
        ...exampleQueries(catalog.tables).map((x) => {
          const button = h('button', { type: 'button', class: 'small', text: x.title })
          button.addEventListener('click', () => useExample(x.sql))
          return h('li', {}, button)
        }),
      )
      performance.mark('cryptoviz:data')
    })
  }

  /** @type {string | undefined} */
  let csvUrl
  ctx.signal.addEventListener('abort', () => {
    if (csvUrl) URL.revokeObjectURL(csvUrl)
  })

  async function execute() {
    const sql = textarea.value.trim()
    if (sql === '') return
    run.setAttribute('aria-busy', 'true')
    info.textContent = 'Running…'
    const token = tokenInput.value.trim()
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token)
    try {
      const asOf = currentAsOf()
      const answer = await postJson(
        '/api/v1/sql',
        { sql, ...(asOf !== undefined && { asOf }) },
        { token, signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      error.hidden = true
      showResults(answer)
    } catch (e) {
      if (ctx.signal.aborted) return
      const err = /** @type {any} */ (e)
      error.textContent = err instanceof Error ? err.message : String(err)
      error.hidden = false
      info.textContent = ''
      if (err?.status === 401) {
        tokenField.hidden = false
        tokenInput.focus()
      }
    } finally {
      run.removeAttribute('aria-busy')
    }
  }

  /** @param {any} answer */
  function showResults(answer) {
    const names = answer.columns.map((/** @type {any} */ c) => c.name)
    const head = h(
      'tr',
      {},
      ...answer.columns.map((/** @type {any} */ c) => h('th', { scope: 'col', title: c.type, text: c.name })),
    )
    const body = h(
      'tbody',
      {},
      ...answer.rows.map((/** @type {any} */ row) =>
        h(
          'tr',
          {},
          ...names.map((/** @type {string} */ n) => {
            const v = row[n]
            return h('td', {
              class: typeof v === 'number' ? 'num' : undefined,
              text: v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v),
            })
          }),
        ),
      ),
    )
    resultsInfo.hidden = true
    grid.replaceChildren(
      h(
        'table',
        { class: 'grid-table' },
        h('caption', { class: 'sr-only', text: 'Query results' }),
        h('thead', {}, head),
        body,
      ),
    )
    info.textContent = `${format.integer(answer.row_count)} rows${answer.truncated ? ' (truncated)' : ''} in ${answer.elapsed_ms.toFixed(0)} ms, table version ${answer.version}.`
    const csv = [
      names.map(csvField).join(','),
      ...answer.rows.map((/** @type {any} */ r) =>
        names.map((/** @type {string} */ n) => csvField(r[n])).join(','),
      ),
    ].join('\r\n')
    if (csvUrl) URL.revokeObjectURL(csvUrl)
    csvUrl = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }))
    download.href = csvUrl
    download.download = `cryptoviz-query-v${answer.version}.csv`
    download.hidden = false
  }

  void loadTables()
}
