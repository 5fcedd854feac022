/**
 * Progress for long CLI work: a progress bar on a terminal, and one plain line per 10% otherwise
 * (CI logs and pipes stay readable). Always on stderr, so stdout stays data.
 */
import cliProgress from 'cli-progress'

export interface Progress {
  update(done: number, detail?: string): void
  stop(): void
}

export function progress(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {detail}`, stream },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { detail: '' })
    return { update: (done, detail = '') => bar.update(done, { detail }), stop: () => bar.stop() }
  }
  let lastDecile = -1
  return {
    update(done, detail = '') {
      const decile = Math.floor((done / Math.max(total, 1)) * 10)
      if (decile > lastDecile) {
        lastDecile = decile
        stream.write(`${label}: ${Math.min(100, decile * 10)}% (${done}/${total}) ${detail}\n`)
      }
    },
    stop() {},
  }
}
