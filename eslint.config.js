// Lint for the whole workspace. The module-boundary rule encodes the dependency table of
// DESIGN.md: each package carries an `nx.tags` layer in its package.json, and a layer may only
// import the layers listed here. A forbidden import (say proxy → destination) fails lint.
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

const layers = {
  'layer:core': [],
  'layer:kube': ['layer:core'],
  'layer:data-plane': ['layer:core'],
  'layer:control-plane': ['layer:core', 'layer:kube'],
  'layer:extension': ['layer:core', 'layer:kube'],
  'layer:cli': ['layer:core', 'layer:kube', 'layer:data-plane', 'layer:control-plane', 'layer:extension'],
  'layer:test': ['layer:core', 'layer:kube'],
  'layer:bench': ['*'],
};

const boundaries = (extraAllowed) => [
  'error',
  {
    allow: [],
    enforceBuildableLibDependency: false,
    checkDynamicDependenciesExceptions: [],
    depConstraints: Object.entries(layers).map(([sourceTag, allowed]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: allowed.includes('*') ? ['*'] : [sourceTag, ...allowed, ...extraAllowed],
    })),
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.nx/**',
      'packages/core/src/api/generated/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-throw-literal': 'error',
    },
  },
  {
    // Tests may use the shared test environment (a real kube-apiserver); product code may not.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['layer:test']) },
  },
  {
    // The proxy's product code takes core's data-plane entry, which leaves out the certificate
    // authority and its ASN.1 library (~7 MB of RSS per proxy; packages/core/src/data-plane.ts).
    files: ['packages/proxy/src/**/*.ts', 'packages/proxy/bin/**/*.js'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tsmesh/core',
              message:
                "import from '@tsmesh/core/data-plane': a proxy must not load the certificate authority",
            },
          ],
        },
      ],
    },
  },
  {
    // Build and test configs import the shared root presets by path; they are tooling, not a layer.
    files: ['packages/*/tsup.config.ts', 'packages/*/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
