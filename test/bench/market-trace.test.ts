import assert from 'node:assert/strict'
import { test } from 'node:test'
import { attributeLongTasks, summarizeTrace, type TraceEvent } from '../../bench/market-trace.ts'

const MAIN = { pid: 7, tid: 1 }
const meta: TraceEvent = {
  name: 'thread_name',
  cat: '__metadata',
  ph: 'M',
  ts: 0,
  ...MAIN,
  args: { name: 'CrRendererMain' },
}
/** A complete event on the renderer's main thread, times in milliseconds. */
const x = (name: string, atMs: number, ms: number, where = MAIN): TraceEvent => ({
  name,
  cat: 'devtools.timeline',
  ph: 'X',
  ts: 1_000_000 + atMs * 1000,
  dur: ms * 1000,
  ...where,
})

test('a long task is attributed by self time: nested events are not counted twice, wrappers’ own time is other', () => {
  const events = [
    meta,
    // 80 ms task: a frame (5 ms own) holding layerize 40 ms (which holds a 10 ms paint) and layout 20 ms.
    x('RunTask', 0, 80),
    x('ProxyMain::BeginMainFrame', 2, 70),
    x('PaintArtifactCompositor::Update', 5, 40),
    x('Paint', 10, 10),
    x('LocalFrameView::performLayout', 46, 20),
    x('FunctionCall', 74, 4),
    // a short task and a long one on another thread are left out
    x('RunTask', 100, 20),
    x('RunTask', 200, 90, { pid: 7, tid: 2 }),
  ]
  const [task, ...rest] = attributeLongTasks(events)
  assert.deepEqual(rest, [])
  assert.equal(task!.ms, 80)
  assert.equal(task!.at, 0)
  assert.deepEqual(task!.buckets, { script: 4, style: 0, layout: 20, paint: 40, other: 16 })
  assert.deepEqual(task!.top[0], ['PaintArtifactCompositor::Update', 30])
  const total = Object.values(task!.buckets).reduce((a, b) => a + b, 0)
  assert.equal(total, 80, 'self times add up to the task')
})

test('the trace summary counts main-thread tasks over 30 ms and totals layerize and paint', () => {
  const events = [
    meta,
    x('RunTask', 0, 35),
    x('PaintArtifactCompositor::Update', 1, 12),
    x('Paint', 14, 3),
    x('RunTask', 50, 10),
    x('RunTask', 70, 31, { pid: 7, tid: 2 }),
  ]
  assert.deepEqual(summarizeTrace(events), {
    tasksOver30: 1,
    busyMs: 45,
    layerizeMs: 12,
    layerizeCount: 1,
    paintMs: 3,
  })
})
