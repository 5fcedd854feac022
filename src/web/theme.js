// @ts-check
/**
 * Light and dark themes: the page's colours are CSS variables switched by `data-theme` on the
 * root element; charts read the same variables (`themeColors`) and redraw on THEME_EVENT. The
 * choice is remembered; without one the system preference decides.
 */

export const THEME_EVENT = 'cryptoviz-theme'
const KEY = 'cryptoviz.theme'

/** @returns {'light' | 'dark'} */
export function initialTheme() {
  const saved = window.localStorage.getItem(KEY)
  if (saved === 'light' || saved === 'dark') return saved
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

/**
 * @param {'light' | 'dark'} theme
 * @param {boolean} [remember]
 */
export function applyTheme(theme, remember = false) {
  document.documentElement.dataset['theme'] = theme
  if (remember) window.localStorage.setItem(KEY, theme)
  window.dispatchEvent(new Event(THEME_EVENT))
}

/** The theme's colours, as the style sheet defines them. */
export function themeColors() {
  const style = window.getComputedStyle(document.documentElement)
  /** @param {string} name */
  const v = (name) => style.getPropertyValue(name).trim()
  return {
    background: v('--panel'),
    text: v('--text'),
    muted: v('--muted'),
    grid: v('--grid'),
    up: v('--up'),
    down: v('--down'),
    accent: v('--accent'),
    series: [v('--series-1'), v('--series-2'), v('--series-3'), v('--series-4')],
  }
}
