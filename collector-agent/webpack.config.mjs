// Bundles the built agent (dist/bin.js and what it imports) into dist/cybercorp-agent.mjs, the
// file the launcher runs. Why: an agent that wakes every 10 s pays for its code in memory the
// whole time. Loaded as ~600 separate CommonJS files, the OpenTelemetry and gRPC packages kept
// 2.7 MB of source and a module record each in the heap; one minified file measured ~4 MB less
// peak RSS (bench/agent-overhead). The source map beside it serves NODE_OPTIONS=--enable-source-maps.
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

export default {
  mode: 'production',
  target: 'node20',
  entry: here('./dist/bin.js'),
  output: {
    path: here('./dist'),
    filename: 'cybercorp-agent.mjs',
    chunkFilename: 'cybercorp-agent.[name].mjs',
    module: true,
    chunkFormat: 'module',
    library: { type: 'module' },
    clean: false,
  },
  experiments: { outputModule: true },
  module: {
    parser: {
      javascript: {
        // import.meta.url stays the bundle's own URL at run time (it sits in dist/ like the
        // files it replaces, so `new URL('../package.json', import.meta.url)` still works).
        importMeta: false,
        // The x11 package, needed only with a DISPLAY, loads its extensions by computed paths:
        // its createRequire() is left to Node, which resolves it from node_modules.
        createRequire: false,
      },
    },
  },
  // ws's optional native helpers: ws falls back to JavaScript when they are not installed.
  externals: {
    bufferutil: 'node-commonjs bufferutil',
    'utf-8-validate': 'node-commonjs utf-8-validate',
    // pino (the logger) loads node's worker_threads, only to read isMainThread, and through
    // sonic-boom (its file stream, used with LOG_FILE) assert, for one check per open. The agent
    // starts no worker, and the two modules cost ~2.5 MB of peak RSS (bench/agent-overhead): the
    // bundle gets what pino uses of them instead.
    worker_threads: 'var { isMainThread: true }',
    assert: 'var (function assert(ok, message) { if (!ok) throw new Error(message); })',
  },
  externalsPresets: { node: true },
  // pino's worker-thread transports (thread-stream), never started by the agent, stay out.
  resolve: { alias: { 'thread-stream': false } },
  devtool: 'source-map',
  performance: { hints: false },
};
