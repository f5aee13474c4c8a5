// Lint: typescript-eslint's recommended rules, and the layers. Dependencies point one way (DEVELOPERS.md): editors -> runtime/front ->
// api/session -> jobs/promote/cluster/sessions -> k8s/manifests/exec (and the other leaves) ->
// types; nothing points back up, and the editors reach the runtime only through its public entries.
// tsc checks the types; this checks the arrows, which tsc cannot see.
import tseslint from 'typescript-eslint';

const RUNTIME = 'runtime/src';
/** Each layer, top first, with the folders (or files) in it. */
const LAYERS = [
  { name: 'the CLI and the package entry', paths: ['cli', 'index'] },
  // JupyterLab's frontend bundles them for the browser: no Node modules.
  {
    name: 'the front ends’ helpers',
    paths: ['front'],
    forbid: [{ group: ['node:*'], message: 'the front ends’ helpers run in the browser too (JupyterLab): no Node modules here.' }],
  },
  { name: 'the API and the session', paths: ['api', 'session'] },
  { name: 'jobs, promotion, clusters and notebook sessions', paths: ['jobs', 'promote', 'cluster', 'sessions', 'addons', 'testing'] },
  // The stand-in API server of unit tests needs only client-node: tests of the leaves use it too.
  {
    name: 'Kubernetes, manifests, processes and the other leaves',
    paths: ['k8s', 'manifests', 'exec', 'images', 'packages', 'workspace', 'logs', 'spec', 'testing/stand-in-api'],
  },
  { name: 'types, errors and versions', paths: ['types', 'errors', 'version'] },
];

const filesOf = (paths) => paths.flatMap((p) => [`${RUNTIME}/${p}/**/*.ts`, `${RUNTIME}/${p}.ts`]);
/** Import patterns reaching a folder or file of the runtime from anywhere inside it. */
const importsOf = (paths) => paths.flatMap((p) => [`**/${p}/*`, `../${p}.js`, `./${p}.js`, `../../${p}.js`]);

const layerRules = LAYERS.map((layer, i) => {
  const above = LAYERS.slice(0, i).flatMap((l) => l.paths);
  // A file of this layer or a lower one inside a folder of a higher one stays importable.
  const lowerInside = LAYERS.slice(i)
    .flatMap((l) => l.paths)
    .filter((p) => above.some((a) => p.startsWith(`${a}/`)))
    .map((p) => `!**/${p}.js`);
  return {
    files: filesOf(layer.paths),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(above.length
              ? [
                  {
                    group: [...importsOf(above), ...lowerInside],
                    message: `${layer.name} may not import from a layer above it (${LAYERS.slice(0, i)
                      .map((l) => l.name)
                      .join('; ')}): move the shared part down, or pass it in.`,
                  },
                ]
              : []),
            ...(layer.forbid ?? []),
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  ...tseslint.configs.recommended,
  { ignores: ['**/dist/**', '**/node_modules/**', '**/lib/**', 'jupyterlab-ext/skiff_jupyterlab/**', 'test-results/**', '**/*.d.ts', '**/out/**', '.vscode-test/**'] },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      'require-yield': 'error',
      // `const { skiff: _old, ...rest } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // CommonJS by necessity (webpack's and Playwright's configs, the Electron test suite): require() is how they load.
  { files: ['**/*.cjs', '**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  ...layerRules,
  {
    // The editors and media: the runtime through its package entries only, never its sources.
    files: ['extension/src/**/*.ts', 'jupyterlab-ext/src/**/*.ts', 'media/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime/src/**', '**/runtime/dist/**', '@skiff/runtime/dist/**', '@skiff/runtime/src/**'],
              message: 'the editors reach the runtime through @skiff/runtime, @skiff/runtime/front or @skiff/runtime/errors only.',
            },
          ],
        },
      ],
    },
  },
);
