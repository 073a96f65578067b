// Lint of the sidebar's sources and tests, with type information: the rules that catch
// promises nobody awaits, values typed `any` flowing into typed code, and hooks used wrongly.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'lib/',
      'node_modules/',
      'coverage/',
      '.yarn/',
      '../jupyter_dsagent/labextension/'
    ]
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.test.json covers src/ and test/; the config files below are plain JS.
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname
      }
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error'
    },
    rules: {
      // Slots are connected as Lumino wants, `signal.connect(this._slot, this)`: the second
      // argument binds `this`, which this rule cannot see, and `Signal.clearData(this)` needs
      // that receiver to disconnect them. Callbacks elsewhere are arrow functions.
      '@typescript-eslint/unbound-method': 'off',
      // Same convention as tsc's noUnusedParameters: a leading underscore marks a parameter
      // kept for its signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/**/*.tsx'],
    ...reactHooks.configs.flat.recommended
  },
  {
    files: ['src/**/*.tsx'],
    rules: {
      'react-hooks/exhaustive-deps': 'error'
    }
  },
  {
    files: ['**/*.{js,mjs,cjs}', 'vitest.config.mts'],
    extends: [tseslint.configs.disableTypeChecked]
  }
);
