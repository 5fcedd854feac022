/**
 * A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on 127.0.0.1,
 * from Maven Central jars cached under `.cache/` (or `TEST_SERVERS_CACHE`). No Docker, no mock.
 *
 * - `ensureKafkaJars()` fetches the jars once with `mvn` (pinned dependency plugin); the marker
 *   file is written last, so an interrupted fetch is redone. It says what to install when `mvn`
 *   or `java` is missing.
 * - `startKafka()` formats a fresh data dir in a temp folder, starts the broker, waits until its
 *   port accepts connections (failing fast with the log tail if the JVM exits) and returns
 *   `stop()` (SIGKILL, then the temp dir is removed) and `restart()` (same data, same ports).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from './python.ts'

export const KAFKA_VERSION = '4.3.1'
const LOG4J_SLF4J_VERSION = '2.25.4'
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies'

const cacheRoot = (): string => resolve(process.env['TEST_SERVERS_CACHE'] ?? join(REPO_ROOT, '.cache'))
export const kafkaLibs = (): string => join(cacheRoot(), `kafka-${KAFKA_VERSION}`, 'libs')

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Fetches the broker's jars once (about 45 MB); returns the libs folder. */
export function ensureKafkaJars(): { libs: string; fetched: boolean } {
  const libs = kafkaLibs()
  const marker = join(libs, '.complete')
  if (existsSync(marker)) return { libs, fetched: false }
  if (!have('java')) {
    throw new Error(
      'the Kafka test broker needs Java 17+: install it, e.g. `apt-get install -y openjdk-17-jre-headless`',
    )
  }
  if (!have('mvn')) {
    if (process.getuid?.() === 0 && have('apt-get')) {
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq maven'], { stdio: 'inherit' })
    } else {
      throw new Error(
        'the Kafka test broker jars are fetched with Maven: install it, e.g. `sudo apt-get install -y maven`',
      )
    }
  }
  const dir = join(cacheRoot(), `kafka-${KAFKA_VERSION}`)
  mkdirSync(dir, { recursive: true })
  const pom = join(dir, 'pom.xml')
  writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>test</groupId><artifactId>kafka-server-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_SLF4J_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  )
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pom,
      `-Dmaven.repo.local=${join(cacheRoot(), 'm2')}`,
      DEPENDENCY_PLUGIN,
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    { stdio: 'inherit' },
  )
  writeFileSync(marker, `${new Date().toISOString()}\n`)
  return { libs, fetched: true }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => res(port))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = createConnection({ host: '127.0.0.1', port })
    c.once('connect', () => {
      c.destroy()
      res(true)
    })
    c.once('error', () => res(false))
  })
}

/** 16 random bytes, base64url, not starting with '-' (as Kafka's own generator). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export interface KafkaServer {
  bootstrap: string
  pid: number
  logFile: string
  /** Kills the broker and waits until it is gone; the data survives for `restart`. */
  kill(): Promise<void>
  /** Starts the broker again on the same data and ports. */
  restart(): Promise<void>
  /** Kills the broker and removes its data. */
  stop(): Promise<void>
}

export async function startKafka(): Promise<KafkaServer> {
  const { libs } = ensureKafkaJars()
  const dir = mkdtempSync(join(tmpdir(), 'kafka-test-'))
  const [port, controllerPort] = [await freePort(), await freePort()]
  const props = join(dir, 'server.properties')
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=3',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  )
  const log4j = join(dir, 'log4j2.properties')
  writeFileSync(
    log4j,
    [
      'appender.out.type=Console',
      'appender.out.name=OUT',
      'appender.out.layout.type=PatternLayout',
      'appender.out.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=WARN',
      'rootLogger.appenderRef.out.ref=OUT',
      'logger.started.name=kafka.server.KafkaRaftServer',
      'logger.started.level=INFO',
      '',
    ].join('\n'),
  )
  const cp = join(libs, '*')
  const logFlag = `-Dlog4j2.configurationFile=${log4j}`
  execFileSync(
    'java',
    [logFlag, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props],
    {
      stdio: 'ignore',
    },
  )
  const logFile = join(dir, 'broker.log')
  let child: ChildProcess | undefined

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a')
    const c = spawn(
      'java',
      [
        '-Xms64m',
        '-Xmx512m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        // Its native codecs and JVM perf data go in its own folder, not /tmp, so they go with it.
        `-Djava.io.tmpdir=${dir}`,
        '-XX:-UsePerfData',
        logFlag,
        '-cp',
        cp,
        'kafka.Kafka',
        props,
      ],
      { stdio: ['ignore', fd, fd] },
    )
    child = c
    // A runner killed from outside cannot stop the broker: .ci/run kills the pids listed here.
    const pidsFile = process.env['TEST_SERVER_PIDS_FILE']
    if (pidsFile && c.pid !== undefined) appendFileSync(pidsFile, `${c.pid}\n`)
    let exited = false
    c.once('exit', () => (exited = true))
    const deadline = Date.now() + 90_000
    while (!(await portOpen(port))) {
      if (exited) throw new Error(`Kafka exited at start:\n${readFileSync(logFile, 'utf8').slice(-4000)}`)
      if (Date.now() > deadline) {
        c.kill('SIGKILL')
        throw new Error(
          `Kafka did not open port ${port} in 90 s:\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
        )
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const kill = async (): Promise<void> => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
  }

  await launch()
  return {
    bootstrap: `127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1
    },
    logFile,
    kill,
    restart: launch,
    stop: async () => {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
