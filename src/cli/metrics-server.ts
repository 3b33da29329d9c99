/** A tiny HTTP server for Prometheus scrapes: GET /metrics, nothing else. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';

export function serveMetrics(address: string, render: () => string): Promise<Server> {
  const [host, port] = splitHostPort(address);
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(render());
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found', code: 'NOT_FOUND' }));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad address "${address}": expected HOST:PORT`);
  return [address.slice(0, i), port];
}
