// @ts-check
/**
 * The market table's 7-day sparkline, built as SVG elements with DOM calls (no markup strings,
 * so no value from the API is ever parsed as markup). It scales to its data; null hours stay
 * gaps rather than being drawn as zero. (The interactive charts are in chart.js.)
 */
import { price } from './format.js'

const SVG_NS = 'http://www.w3.org/2000/svg'

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svg(name, attributes, text) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, name))
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value))
  if (text !== undefined) element.textContent = text
  return element
}

/**
 * A small line of hourly prices; null hours break the line. The last known price gets a dot, so
 * an asset with a single hour of history still shows something.
 * @param {(number | null)[]} values
 * @param {{ width?: number, height?: number }} [size]
 */
export function sparkline(values, { width = 120, height = 32 } = {}) {
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'sparkline' })
  const known = /** @type {number[]} */ (values.filter((v) => v != null))
  const first = known[0]
  const last = known[known.length - 1]
  if (first === undefined || last === undefined) {
    root.append(svg('title', {}, 'no prices in the last 7 days'))
    return root
  }
  const min = Math.min(...known)
  const max = Math.max(...known)
  /** @param {number} i */
  const x = (i) => (values.length <= 1 ? width / 2 : 2 + (i / (values.length - 1)) * (width - 4))
  /** @param {number} v */
  const y = (v) => (max === min ? height / 2 : height - 3 - ((v - min) / (max - min)) * (height - 6))
  let d = ''
  let penDown = false
  values.forEach((v, i) => {
    if (v == null) {
      penDown = false
      return
    }
    d += `${penDown ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`
    penDown = true
  })
  root.classList.add(last > first ? 'up' : last < first ? 'down' : 'flat')
  root.append(
    svg('title', {}, `7 days, hourly: low ${price(min)}, high ${price(max)}`),
    svg('path', { d, class: 'line' }),
    svg('circle', { cx: x(values.lastIndexOf(last)), cy: y(last), r: 2, class: 'dot' }),
  )
  return root
}
