// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.temporal/', '.data/', '.schemathesis/', '.cluster/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['api/ops/page/*.js'], languageOptions: { globals: globals.browser } },
  // Tests, scenarios, the demo and benchmarks read JSON answers loosely and poke at SDK internals.
  { files: ['test/**', 'bench/**', 'scenarios/**', 'scripts/demo.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  prettier,
);
