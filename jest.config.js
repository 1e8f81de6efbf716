// jest runs the TypeScript sources as ESM through swc (ts-jest does not work with TypeScript 7).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // *.postgres.test.ts need two apps on one server database: they run when TEST_DATABASE_URL is set (CI).
  testPathIgnorePatterns: process.env.TEST_DATABASE_URL ? ['/node_modules/'] : ['/node_modules/', '\\.postgres\\.test\\.ts$'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
};
