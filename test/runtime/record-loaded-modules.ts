/**
 * Preloaded with `node --import` by the loaded-modules test: records the URL of every module the
 * process loads and writes the list, as JSON, to `$RECORD_LOADED_MODULES` when the process exits.
 * `cryptoviz` relaunches itself with the same node options, so the process that runs is recorded.
 */
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const loaded: string[] = []
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url)
    return nextLoad(url, context)
  },
})
process.on('exit', () => {
  const file = process.env['RECORD_LOADED_MODULES']
  if (file !== undefined) writeFileSync(file, JSON.stringify(loaded))
})
