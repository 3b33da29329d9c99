/**
 * The layer boundaries of ../shared/STYLE.md §1, checked by `npm run lint`
 * (part of `npm test`). A folder may import only the folders listed for it,
 * and only through their index.ts.
 */
const layers = {
  common: [],
  raft: ['common'],
  runtime: ['common'],
  storage: ['common', 'runtime', 'raft'],
  transport: ['common', 'runtime', 'raft'],
  replica: ['common', 'runtime', 'raft', 'storage', 'transport'],
  store: ['common', 'runtime', 'raft', 'storage', 'transport', 'replica', 'txn'],
  pd: ['common', 'runtime', 'raft', 'storage', 'transport', 'replica'],
  txn: ['common', 'runtime', 'storage', 'transport'],
  sql: ['common', 'txn'],
  gateway: ['common', 'runtime', 'sql', 'txn', 'transport'],
};
const all = ['common', 'raft', 'runtime', 'storage', 'transport', 'replica', 'store', 'pd', 'txn', 'sql', 'gateway', 'sim', 'cli'];

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only: ${allowed.join(', ') || 'nothing'} (STYLE.md §1)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${all.filter((l) => l !== layer && !allowed.includes(l)).join('|')})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...layerRules,
    {
      name: 'only-through-index',
      comment: 'another folder is reached only through its index.ts',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/(?!index\\.ts$)', pathNot: ['^src/$1/'] },
    },
    {
      name: 'raft-only-src',
      comment: 'the Raft core imports nothing outside src (and, by layer-raft, only common there)',
      severity: 'error',
      from: { path: '^src/raft/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['local'], pathNot: '^src/' },
    },
    {
      name: 'raft-tests-only-support',
      comment: 'outside src, the Raft unit tests import only test/support (the harnesses in raft-harness.ts)',
      severity: 'error',
      from: { path: '^src/raft/.+\\.test\\.ts$' },
      to: { dependencyTypes: ['local'], pathNot: '^(src|test/support)/' },
    },
    {
      name: 'raft-no-packages',
      comment: 'the Raft core does no I/O: no node builtins, no packages',
      severity: 'error',
      from: { path: '^src/raft/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'grpc-only-in-transport',
      severity: 'error',
      from: { pathNot: '^src/transport/' },
      to: { path: '@grpc/grpc-js' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Tests are not checked, except the Raft core's: they hold it to common
    // plus test/support (rules above), so a harness cannot slip runtime back in.
    exclude: { path: '^src/(?!raft/).*\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
