// Builds the plugin the way Grafana loads it: one AMD module (dist/module.js) whose shared
// libraries (React, @grafana/*, emotion, rxjs, react-router) come from Grafana itself at run time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE_DIR = path.resolve(HERE, 'src');
const DIST_DIR = path.resolve(HERE, 'dist');
const pkg = JSON.parse(readFileSync(path.resolve(HERE, 'package.json'), 'utf8'));
const pluginJson = JSON.parse(readFileSync(path.resolve(SOURCE_DIR, 'plugin.json'), 'utf8'));

// Grafana's plugin loader provides these modules; bundling them would create second copies.
const externals = [
  'react',
  'react-dom',
  'react-router',
  'rxjs',
  '@emotion/css',
  '@emotion/react',
  'lodash',
  'moment',
  'i18next',
  /^@grafana\/ui/,
  /^@grafana\/runtime/,
  /^@grafana\/data/,
];

/** Replaces %VERSION%, %TODAY% and %PLUGIN_ID% in plugin.json and the README as they are copied. */
function fillTemplate(content) {
  return content
    .toString()
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, new Date().toISOString().slice(0, 10))
    .replace(/%PLUGIN_ID%/g, pluginJson.id);
}

export default (env = {}) => ({
  mode: env.production ? 'production' : 'development',
  devtool: env.production ? 'source-map' : 'eval-source-map',
  context: SOURCE_DIR,
  entry: { module: './module.tsx' },
  externals,
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2018',
              parser: { syntax: 'typescript', tsx: true, dynamicImport: true },
              transform: { react: { runtime: 'automatic' } },
            },
          },
        },
      },
    ],
  },
  output: {
    clean: true,
    filename: '[name].js',
    chunkFilename: '[name].[contenthash:8].js',
    path: DIST_DIR,
    library: { type: 'amd' },
    // Lazy chunks are fetched from the plugin's public folder, also under a Grafana sub-path.
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
  },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: 'plugin.json', to: '.', transform: fillTemplate },
        { from: '../README.md', to: '.', transform: fillTemplate },
        { from: '../CHANGELOG.md', to: '.' },
        // Grafana's plugin validator requires a license file in the archive.
        { from: '../../LICENSE', to: '.', noErrorOnMissing: true },
        { from: 'img/**/*', to: '.' },
        { from: 'dashboards/*.json', to: '.' },
      ],
    }),
  ],
  resolve: { extensions: ['.tsx', '.ts', '.js', '.jsx'] },
  performance: { hints: false },
  stats: 'minimal',
});
