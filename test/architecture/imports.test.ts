/**
 * The module graph of src/ has no cycles. Layer directions are enforced by eslint
 * (`no-restricted-imports` per folder, eslint.config.js); a cycle inside a layer, or one that
 * type-only imports close, is caught here. Type imports count: a cycle of types still ties two
 * modules together.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SRC = resolve(import.meta.dirname, '../../src')

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Relative specifiers of static imports and re-exports (`import … from`, `export … from`, `import '…'`). */
function importsOf(source: string): string[] {
  const out: string[] = []
  const re = /^\s*(?:import|export)\s+(?:[^'";]*?\s+from\s+)?'(\.[^']+)'/gm
  for (const m of source.matchAll(re)) out.push(m[1]!)
  return out
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const indexes = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    indexes.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indexes.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexes.get(w)!))
    }
    if (low.get(v) === indexes.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!indexes.has(v)) visit(v)
  return found
}

test('the cycle finder finds a two-module cycle and a self import, and passes a chain', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['a', 'c']],
    ['c', ['d']],
    ['d', []],
    ['e', ['e']],
  ])
  assert.deepEqual(cycles(graph).sort(), [['a', 'b'], ['e']])
  assert.deepEqual(
    importsOf(
      "import type { A } from './a.ts'\nexport { b } from '../b.ts'\nimport 'node:fs'\nimport './c.ts'\n",
    ),
    ['./a.ts', '../b.ts', './c.ts'],
  )
})

test('no import cycles in src/', () => {
  const graph = new Map<string, string[]>()
  for (const file of tsFiles(SRC)) {
    const deps = importsOf(readFileSync(file, 'utf8')).map((s) => relative(SRC, resolve(dirname(file), s)))
    graph.set(relative(SRC, file), deps)
  }
  assert.ok(graph.size > 50, 'walked the source tree')
  assert.deepEqual(cycles(graph), [], 'import cycles (each line one cycle)')
})
