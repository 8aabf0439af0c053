// The plugin's pages in a plain web page outside Grafana, for the browser test
// (e2e/plugin-browser.test.ts). It reuses the plugin's webpack setup but bundles what Grafana
// would otherwise provide at run time (React, @grafana/*, emotion), because here no Grafana is
// around to provide it. Build: webpack --config harness/webpack.config.js --output-path DIR
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

import pluginConfig from '../webpack.config.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export default (env = {}) => {
  const base = pluginConfig({ ...env, production: false });
  return {
    ...base,
    mode: 'development',
    // No eval(): the browser test records every response, and readable chunks help when it fails.
    devtool: false,
    context: HERE,
    entry: { harness: './main.tsx' },
    externals: [],
    module: {
      rules: [
        ...base.module.rules,
        // @grafana/ui imports a few stylesheets; Grafana's shell loads its own, so they are not needed.
        { test: /\.css$/, type: 'asset/source' },
      ],
    },
    output: {
      clean: true,
      filename: '[name].js',
      chunkFilename: '[name].[contenthash:8].js',
      path: path.resolve(HERE, 'dist'),
      publicPath: '/harness/',
    },
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'index.html', to: '.' }] })],
    resolve: {
      ...base.resolve,
      extensions: [...base.resolve.extensions, '.mjs'],
      // Browser code in @grafana/* mentions Node built-ins behind checks it never takes here.
      fallback: { fs: false, path: false, os: false, crypto: false, stream: false, util: false },
    },
  };
};
