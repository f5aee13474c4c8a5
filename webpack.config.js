// Bundles the VS Code extension: the extension host part (Node, with @skiff/runtime inside) and the
// notebook renderer (browser, with @skiff/media's uPlot charts). `npm run build -w extension`.
const path = require('node:path');
const webpack = require('webpack');
const CopyPlugin = require('copy-webpack-plugin');

const root = __dirname;
const out = path.join(root, 'extension/dist');

/** TypeScript with NodeNext-style imports ('./x.js' names ./x.ts); `esm` keeps ES modules for webpack. */
const typescript = (esm = false) => ({
  rules: [
    {
      test: /\.ts$/,
      exclude: /node_modules/,
      use: {
        loader: 'ts-loader',
        options: {
          transpileOnly: true,
          configFile: path.join(root, 'extension/tsconfig.json'),
          // The renderer must stay an ES module (VS Code imports it and calls its `activate` export).
          ...(esm ? { compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' } } : {}),
        },
      },
    },
  ],
});
const resolve = { extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } };

/** @type {import('webpack').Configuration} */
const extensionHost = {
  name: 'extension',
  target: 'node20',
  entry: path.join(root, 'extension/src/extension.ts'),
  output: { path: out, filename: 'extension.js', library: { type: 'commonjs2' }, clean: false },
  devtool: 'source-map',
  resolve,
  // The runtime locates its Python helper and image recipes with new URL(..., import.meta.url); in
  // the bundle they sit in dist/ instead, found through $SKIFF_PYTHON_DIR and $SKIFF_IMAGES_DIR.
  module: { ...typescript(), parser: { javascript: { url: false } } },
  externals: {
    vscode: 'commonjs vscode',
    // Optional native helpers of ssh2 (dockerode's SSH transport, unused by Skiff): loaded only if present.
    'cpu-features': 'commonjs cpu-features',
  },
  plugins: [
    new webpack.IgnorePlugin({ resourceRegExp: /sshcrypto\.node$/ }),
    new CopyPlugin({
      patterns: [
        // What the runtime reads from disk: the Python helper shipped into jobs and the offline image recipes.
        { from: path.join(root, 'runtime/python/skiff/*.py'), to: path.join(out, 'python/skiff/[name][ext]') },
        { from: path.join(root, 'runtime/images'), to: path.join(out, 'images') },
        { from: path.join(root, 'media/icons'), to: path.join(out, 'icons') },
      ],
    }),
  ],
  ignoreWarnings: [/Critical dependency: the request of a dependency is an expression/, /Can't resolve '(bufferutil|utf-8-validate)'/],
  performance: { hints: false },
};

/** @type {import('webpack').Configuration} */
const renderer = {
  name: 'renderer',
  target: 'web',
  entry: path.join(root, 'extension/src/notebook/renderer.ts'),
  output: { path: out, filename: 'renderer.js', module: true, library: { type: 'modern-module' } },
  experiments: { outputModule: true },
  devtool: false,
  resolve,
  module: { rules: [...typescript(true).rules, { test: /\.css$/, type: 'asset/source' }] },
  performance: { hints: false },
};

module.exports = [extensionHost, renderer];
