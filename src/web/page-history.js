// @ts-check
/**
 * History (`/history`): the commit timeline of the quotes table (operation, rows, files, time),
 * and time travel: choosing a version or a time sets `?asOf=` for every page, under a banner,
 * until "Back to live". The timeline itself always lists every commit, marking the one travelled
 * to.
 */
import { getJson } from './api.js'
import { guarded, h, panel, table, td } from './dom.js'
import * as format from './format.js'

/** The newest commits listed; older versions are reachable by number or time in the form. */
const LIMIT = 100

/**
 * @param {HTMLElement} view
 * @param {{}} _params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountHistory(view, _params, ctx) {
  const travel = panel('travel-panel', 'Time travel')
  const timeInput = h('input', { type: 'datetime-local', id: 'asof-time', step: '1' })
  const versionInput = h('input', {
    type: 'number',
    id: 'asof-version',
    min: '0',
    step: '1',
    inputmode: 'numeric',
  })
  const byTime = h(
    'form',
    { class: 'inline', id: 'asof-time-form' },
    h('label', { for: 'asof-time', text: 'As of a time (UTC)' }),
    timeInput,
    h('button', { type: 'submit', text: 'Travel' }),
  )
  const byVersion = h(
    'form',
    { class: 'inline', id: 'asof-version-form' },
    h('label', { for: 'asof-version', text: 'As of a version' }),
    versionInput,
    h('button', { type: 'submit', text: 'Travel' }),
  )
  const status = h('p', { class: 'muted', id: 'travel-status' })
  travel.body.append(byTime, byVersion, status)
  if (ctx.asOf !== undefined) {
    const back = h('button', { type: 'button', class: 'primary', text: 'Back to live' })
    back.addEventListener('click', () => ctx.travel(undefined))
    travel.body.append(back)
  }
  byTime.addEventListener('submit', (event) => {
    event.preventDefault()
    const value = /** @type {HTMLInputElement} */ (timeInput).value
    if (value) ctx.travel(`${value.length === 16 ? `${value}:00` : value}Z`)
  })
  byVersion.addEventListener('submit', (event) => {
    event.preventDefault()
    const value = /** @type {HTMLInputElement} */ (versionInput).value
    if (/^\d+$/.test(value)) ctx.travel(value)
  })

  const commits = panel('commits-panel', 'Commits to quotes')
  const commitsTable = table('Commits of the quotes table, newest first', [
    { label: 'Version', numeric: true },
    { label: 'Time (UTC)' },
    { label: 'Operation' },
    { label: 'Rows added', numeric: true },
    { label: 'Files added', numeric: true },
    { label: 'Files removed', numeric: true },
    { label: 'Time travel' },
  ])
  commitsTable.tbody.id = 'history-rows'
  commits.body.append(commitsTable.element)
  view.append(h('h1', { text: 'History and time travel' }), travel.section, commits.section)

  async function load() {
    await guarded(commits, async () => {
      const history = await getJson(
        '/api/v1/history',
        { limit: LIMIT, asOf: undefined },
        { signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      const current = ctx.asOf !== undefined && /^\d+$/.test(ctx.asOf) ? Number(ctx.asOf) : undefined
      status.textContent =
        ctx.asOf === undefined
          ? `Live: the latest of ${format.integer(history.entries[0]?.version ?? 0)} versions.`
          : `Showing ${/^\d+$/.test(ctx.asOf) ? `version ${ctx.asOf}` : format.dateTime(ctx.asOf)} on every page.`
      commitsTable.tbody.replaceChildren(
        ...history.entries.map((/** @type {any} */ e) => {
          const button = h('button', {
            type: 'button',
            class: 'small',
            'data-version': e.version,
            text: `View v${e.version}`,
          })
          button.addEventListener('click', () => ctx.travel(String(e.version)))
          return h(
            'tr',
            { 'data-version': e.version, 'aria-current': e.version === current ? 'true' : undefined },
            td(format.integer(e.version), 'num'),
            td(format.dateTime(e.timestamp)),
            td(e.operation ?? '—'),
            td(format.integer(e.rows_added), 'num'),
            td(format.integer(e.files_added), 'num'),
            td(format.integer(e.files_removed), 'num'),
            td(button),
          )
        }),
      )
      performance.mark('cryptoviz:data')
    })
  }
  void load()
}
