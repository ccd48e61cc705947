// ESLint flat config. Beyond style, it enforces the dependency direction of ARCHITECTURE.md:
//   apps/* → any package;  workers, monitor → checkpoint → queue;  workers ↮ monitor.
// No import cycles, no deep imports into another package's src/, and process.env only in
// entry points (apps/*, each package's src/bin/*, test setup).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** What each package may import from the workspace (besides itself). */
const allowedWorkspaceImports = {
  queue: [],
  checkpoint: ['queue'],
  workers: ['queue', 'checkpoint'],
  monitor: ['queue', 'checkpoint'],
};
const ALL_PACKAGES = Object.keys(allowedWorkspaceImports);

const deepImportPatterns = [
  { group: ['@kai-jobs/*/src', '@kai-jobs/*/src/*'], message: 'Import a package by its name and public exports, not its src/.' },
  { group: ['**/packages/*/src/**', '../../*/src/**', '../../../*/src/**'], message: 'Import another package by its name, not by path.' },
];

function packageRules(name) {
  const forbidden = ALL_PACKAGES.filter((other) => other !== name && !allowedWorkspaceImports[name].includes(other));
  return {
    files: [`packages/${name}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...forbidden.map((other) => ({
              name: `@kai-jobs/${other}`,
              message: `packages/${name} must not depend on @kai-jobs/${other} (see ARCHITECTURE.md).`,
            })),
            { name: '@kai-jobs/board', message: 'Packages never import apps.' },
            { name: '@kai-jobs/cli', message: 'Packages never import apps.' },
          ],
          patterns: [
            ...deepImportPatterns,
            ...forbidden.map((other) => ({
              group: [`@kai-jobs/${other}/*`],
              message: `packages/${name} must not depend on @kai-jobs/${other}.`,
            })),
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', '.artifacts/**', 'bench/results/**', 'supabase/functions/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', { patterns: deepImportPatterns }],
    },
  },
  ...ALL_PACKAGES.map(packageRules),
  {
    // Packages take explicit options; only entry points read the environment or print.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/bin/**', 'packages/*/src/testing.ts', 'packages/*/src/testing/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only entry points (apps/*, src/bin/*) read process.env; take an option.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.value='env']",
          message: 'Only entry points (apps/*, src/bin/*) read process.env; take an option.',
        },
      ],
      'no-console': 'error',
    },
  },
);
