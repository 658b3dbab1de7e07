// One way to find a free port, for the tools (plain node) and the TypeScript
// scripts and tests alike (free-port.d.ts types it for them).
'use strict';
const net = require('node:net');

/** A TCP port nothing listens on right now: the OS picks it. Another process may take it before the caller binds it. */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { freePort };
