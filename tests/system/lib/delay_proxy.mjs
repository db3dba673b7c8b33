// A user-space TCP proxy that adds a one-way delay to every byte in both directions, for the
// system tests (netem is not available here). Each accepted connection opens one to the target;
// each chunk read on one side is written to the other `delayMs` after it arrived, in order. The
// delay can be changed while connections are open: a chunk never overtakes an earlier one, so
// lowering it lets the queue drain at the new pace without reordering.
import net from 'node:net';

export class DelayProxy {
  // `target` is "host:port".
  constructor({ target, delayMs = 0 }) {
    const colon = target.lastIndexOf(':');
    this.targetHost = target.slice(0, colon);
    this.targetPort = Number(target.slice(colon + 1));
    this.delayMs = delayMs;
    this.bytes = 0;  // forwarded, both directions
    this.sockets = new Set();
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  setDelay(delayMs) {
    this.delayMs = delayMs;
  }

  accept(client) {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  // Forwards `from` to `to` with the delay; ends `to` once `from` ended and the queue is empty.
  pipe(from, to) {
    const queue = [];
    let timer = null;
    let ended = false;
    const drain = () => {
      timer = null;
      const now = Date.now();
      while (queue.length > 0 && queue[0].due <= now) {
        const { chunk } = queue.shift();
        this.bytes += chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) {
        timer = setTimeout(drain, queue[0].due - now);
      } else if (ended && !to.destroyed) {
        to.end();
      }
    };
    from.on('data', (chunk) => {
      queue.push({ chunk, due: Date.now() + this.delayMs });
      if (timer === null) timer = setTimeout(drain, Math.max(0, queue[0].due - Date.now()));
    });
    from.on('end', () => {
      ended = true;
      if (timer === null) drain();
    });
  }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
