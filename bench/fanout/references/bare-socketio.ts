/*
 * Reference: a bare socket.io 4.8.3 broadcaster (the version the gateway runs),
 * default options. Every connection belongs to the one benchmark user, so a
 * notification goes to all sockets with `io.emit`, which encodes the packet
 * once for all of them.
 */
import { Server } from 'socket.io';
import { createReferenceServer, listen } from './reference-http';

let io: Server | null = null;

const server = createReferenceServer({
  stream(_request, response) {
    response.writeHead(404).end();
  },
  broadcast(notification) {
    io?.emit(notification.type, notification);
  },
});

io = new Server(server, { serveClient: false });

listen(server);
