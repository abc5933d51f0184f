import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*'], message: 'main/shared is platform-free: no node: imports.' };
const electron = { name: 'electron', message: 'Only main/electron/** may import electron.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', 'scripts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.cts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [electron] }],
    },
  },
  {
    files: ['main/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [electron], patterns: [nodeBuiltins] }] },
  },
  {
    files: ['main/sensors/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [electron], patterns: [{ group: ['**/uplink/**'], message: 'Sources and the uplink meet only at the buffer.' }] },
      ],
    },
  },
  {
    files: ['main/uplink/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [electron], patterns: [{ group: ['**/sensors/**'], message: 'Sources and the uplink meet only at the buffer.' }] },
      ],
    },
  },
  { files: ['main/electron/**/*.ts', 'preload/**/*.cts'], rules: { 'no-restricted-imports': 'off' } },
);
