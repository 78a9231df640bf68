// One jest run over every package. Tests are TypeScript, run as ESM by ts-jest (transpile only:
// `tsc -b` type-checks the tests, see tsconfig.base.json). Imports of our own packages resolve to
// their sources, so an in-process test never runs stale build output; tests that spawn a bin use
// the built `dist/` (npm test builds first).
const own = {
  '^@fullstory-singer/singer-core$': '<rootDir>/packages/singer-core/src/index.ts',
  '^@fullstory-singer/singer-core/testing$': '<rootDir>/packages/singer-core/src/testing/index.ts',
  '^@fullstory-singer/fullstory-client$': '<rootDir>/packages/fullstory-client/src/index.ts',
  '^fullstory-sandbox$': '<rootDir>/packages/fullstory-sandbox/src/index.ts',
};

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    ...own,
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.base.json', diagnostics: false }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/setup/no-console.js'],
  testTimeout: 30000,
  maxWorkers: 2,
};
