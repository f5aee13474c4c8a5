// Bundles the `skiff` command. Node loads @kubernetes/client-node's hundreds of modules one by one
// in about a second; from one bundle it takes a fraction of that, and every command (and so every
// `skiff run`) starts that much sooner. The library itself stays unbundled.
//   dist/cli/skiff-main.cjs  the CLI and its dependencies, as CommonJS (see launcher.ts for why)
//   dist/cli/skiff.mjs       the launcher: v8-compile-cache, then the bundle
import path from 'node:path';
import { build } from 'esbuild';

const packageRoot = new URL('..', import.meta.url).pathname;
const cli = (file) => new URL(`../dist/cli/${file}`, import.meta.url).pathname;
/**
 * Optional transports, loaded the first time they are used rather than at every command: dockerode's
 * BuildKit session (gRPC and protobufjs) and docker-modem's ssh:// transport (ssh2) took over 100 ms
 * of each command's start (CPU profile of `skiff --version`), and most commands use neither. Each
 * module exports one function, so a stand-in function that requires the real module on its first
 * call behaves the same.
 */
const LAZY_MODULES = [/[\\/]dockerode[\\/]lib[\\/]session\.js$/, /[\\/]docker-modem[\\/]lib[\\/]ssh\.js$/];
const lazyOptionalModules = {
  name: 'lazy-optional-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/(session|ssh)$/ }, async (args) => {
      if (args.pluginData?.resolvingReal) return undefined;
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: { resolvingReal: true } });
      if (real.errors.length > 0 || !LAZY_MODULES.some((re) => re.test(real.path))) return undefined;
      // Named relative to the package, so the bundle carries no path of the machine that built it.
      return { path: path.relative(packageRoot, real.path), namespace: 'lazy-stand-in', pluginData: { real: real.path } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-stand-in' }, (args) => ({
      contents: `module.exports = function () { return require(${JSON.stringify(args.pluginData.real)}).apply(this, arguments); };`,
      resolveDir: path.dirname(args.pluginData.real),
      loader: 'js',
    }));
  },
};
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: [cli('bin.js')],
  // Beside main.js, so paths the CLI resolves from import.meta.url (python/, images/) still hold.
  outfile: cli('skiff-main.cjs'),
  format: 'cjs',
  // CommonJS has no import.meta: the runtime's own modules get the bundle's URL instead.
  define: { 'import.meta.url': '__skiffBundleUrl' },
  banner: { js: "const __skiffBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Native addons cannot be bundled; ssh2 loads this one optionally.
  external: ['cpu-features', '*.node'],
  plugins: [lazyOptionalModules],
  // Half the bytes for Node to read and compile at every command (9.5 MB → 4.8 MB). Names are
  // kept, so stack traces and error names still read.
  minifyWhitespace: true,
  minifySyntax: true,
});

await build({
  ...common,
  entryPoints: [cli('launcher.js')],
  outfile: cli('skiff.mjs'),
  format: 'esm',
  // v8-compile-cache is CommonJS and needs require; the bundle stays a file of its own.
  banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module';\nconst require = __skiffCreateRequire(import.meta.url);" },
  external: ['./skiff-main.cjs'],
});
