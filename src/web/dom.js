// @ts-check
/**
 * DOM building for every page. Values from the API reach the page only through textContent and
 * attributes, never as markup, so a hostile asset name cannot inject anything.
 */

/**
 * An element with attributes (`class`, `href`, `data-*`, `aria-*`…) and children (strings become
 * text nodes; null and false are skipped).
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined | null>} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'text') element.textContent = String(value)
    else element.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    element.append(child)
  }
  return element
}

/** @param {string} id */
export function byId(id) {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element
}

/**
 * A panel: a section with a heading, an error line (hidden until something fails) and a body.
 * @param {string} id
 * @param {string} title
 * @param {...(Node | string | null | undefined | false)} extra nodes after the heading
 */
export function panel(id, title, ...extra) {
  const heading = h('h2', { id: `${id}-title`, text: title })
  const error = h('p', { class: 'error', role: 'status', hidden: true })
  const body = h('div', { class: 'panel-body' })
  const section = h(
    'section',
    { id, class: 'panel', 'aria-labelledby': `${id}-title` },
    h('div', { class: 'panel-head' }, heading, ...extra),
    error,
    body,
  )
  return { section, heading, error, body }
}

/**
 * Runs one panel's work; its failure shows in the panel's error line while the last good data
 * stays on screen. Resolves to whether it succeeded.
 * @param {{ error: HTMLElement }} target
 * @param {() => Promise<void>} work
 */
export async function guarded(target, work) {
  try {
    await work()
    target.error.hidden = true
    return true
  } catch (error) {
    target.error.textContent = error instanceof Error ? error.message : String(error)
    target.error.hidden = false
    return false
  }
}

/**
 * A table with a header row; `columns` gives each header's text and whether it is numeric.
 * @param {string} caption accessible name
 * @param {{ label: string, numeric?: boolean }[]} columns
 */
export function table(caption, columns) {
  const tbody = h('tbody')
  const element = h(
    'table',
    {},
    h('caption', { class: 'sr-only', text: caption }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined, text: c.label })),
      ),
    ),
    tbody,
  )
  // A scrolling region must be reachable by keyboard (it scrolls with the arrow keys).
  return {
    element: h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption }, element),
    tbody,
  }
}

/**
 * A table cell.
 * @param {string | Node} content
 * @param {string} [className]
 */
export function td(content, className) {
  const cell = h('td', { class: className })
  cell.append(content)
  return cell
}
