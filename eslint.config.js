// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', 'warehouse/**', 'coverage/**', 'src/web/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        Buffer: 'readonly',
        document: 'readonly',
        window: 'readonly',
        EventSource: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/cli/main.ts and the test harness read the environment.',
        },
      ],
    },
  },
  {
    // The dashboard runs in the browser (plain ES modules, no build step).
    files: ['src/web/**/*.js'],
    languageOptions: {
      globals: {
        performance: 'readonly',
        localStorage: 'readonly',
        sessionStorage: 'readonly',
        navigator: 'readonly',
        Blob: 'readonly',
        Event: 'readonly',
        MessageEvent: 'readonly',
        DOMException: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLAnchorElement: 'readonly',
        HTMLTextAreaElement: 'readonly',
        Node: 'readonly',
        SVGElement: 'readonly',
      },
    },
  },
  {
    files: ['src/cli/main.ts', 'scripts/**', 'test/**', 'bench/**', '.ci/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  // Layers point one way (README, "Layers"); test/architecture/imports.test.ts adds the cycle check.
  ...layerRules(),
)

/**
 * One `no-restricted-imports` block per folder of src/. The lower layers list what they MAY import
 * (so a folder added later is forbidden to them by default); the upper ones what they must not.
 * Top-level modules of src/ (errors.ts, micros.ts, …) are neutral: they import no folder, and
 * any folder may import them.
 */
function layerRules() {
  const ABOVE = ['server', 'cli', 'runtime']
  /** @type {Record<string, { allowed?: string[], forbidden?: string[], why: string }>} */
  const layers = {
    '': { allowed: [], why: 'top-level modules of src/ are neutral: they import no folder' },
    storage: { allowed: [], why: 'storage imports nothing above it' },
    lake: { allowed: ['storage'], why: 'the lake imports nothing above it (only storage)' },
    model: { allowed: [], why: 'the model imports nothing but itself' },
    config: { allowed: [], why: 'config imports nothing but itself' },
    params: {
      allowed: ['model'],
      why: 'parameters shared by the CLI and the server build on the model only',
    },
    sources: { forbidden: ABOVE, why: 'sources never import server, cli or runtime' },
    bus: { forbidden: ABOVE, why: 'the bus never imports server, cli or runtime' },
    stream: { forbidden: ABOVE, why: 'stream never imports server, cli or runtime' },
    query: { forbidden: ABOVE, why: 'query never imports server, cli or runtime' },
    server: {
      forbidden: ['cli', 'runtime'],
      why: 'the server is handed what it serves; it never imports cli or runtime',
    },
  }
  return Object.entries(layers).map(([folder, { allowed, forbidden, why }]) => {
    // From src/x.ts a folder is `./folder/`; from src/folder/… it is `../folder/` (or deeper).
    const up = folder === '' ? '\\./' : '(\\.\\./)+'
    const target = allowed
      ? `${allowed.length > 0 ? `(?!(${allowed.join('|')})/)` : ''}[a-z0-9-]+/`
      : `(${(forbidden ?? []).join('|')})/`
    return {
      files: folder === '' ? ['src/*.ts'] : [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: [{ regex: `^${up}${target}`, message: `Layer rule: ${why}.` }] },
        ],
      },
    }
  })
}
