/**
 * The embedded store's thread (infra/local/runtime/index.ts, `startDynalite`): dynalite (DynamoDB's
 * API over HTTP, LevelDB on disk or in memory) served from a worker thread, so the handlers and the
 * AWS SDK run on the main thread and the store on another core, as on AWS they run on different
 * machines. Plain JavaScript: the worker starts without the TypeScript loader.
 *
 * workerData: `{ path?: string, port: number }`. Posts `{ port }` once listening, or
 * `{ error, code }` when it cannot listen; on the message `close` it closes the server and the
 * LevelDB behind it, posts `closed`, and lets the thread end.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/**
 * dynalite 4 reads every Query and Scan through a stream over an abstract-level iterator, and
 * closes the iterator through `iterator.return()`, which abstract-level 3 iterators do not have:
 * so no iterator is ever closed, and each Query keeps ~12 KB of LevelDB's native memory (measured:
 * a 100k-customer review grew the process past 9 GB). Giving the iterators a `return` that closes
 * them lets dynalite's own stream teardown do what it meant to.
 */
function closeDynaliteIterators() {
  const iterators = require('abstract-level/abstract-iterator.js');
  for (const name of ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator']) {
    const proto = iterators[name]?.prototype;
    if (proto && proto.return === undefined && typeof proto.close === 'function')
      Object.defineProperty(proto, 'return', {
        value: function () {
          return this.close();
        },
        configurable: true,
        writable: true,
      });
  }
}

closeDynaliteIterators();
const dynalite = require('dynalite');
const { path, port } = workerData;
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (e) => parentPort.postMessage({ error: e.message, code: e.code }));
server.listen(port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  // dynalite's close stops taking connections, waits for the requests being answered, then
  // closes its LevelDB. Keep-alive connections are closed as soon as they are idle (every 5 ms):
  // busy ones end after their answer (cutting them would leave a request half-answered on a closed
  // database, which throws), and none waits out the keep-alive timeout.
  const sweep = setInterval(() => server.closeIdleConnections(), 5);
  server.close(() => {
    clearInterval(sweep);
    parentPort.postMessage('closed');
    parentPort.close();
  });
  server.closeIdleConnections();
});
