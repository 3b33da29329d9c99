/** A tiny HTTP server for Prometheus scrapes: GET /metrics, nothing else. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Serves the registry's metrics (a Registry.merge of the process's and the role objects' registries). */
export function serveMetrics(address: string, registry: Registry): Promise<Server> {
  const [host, port] = splitHostPort(address);
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message, code: 'UNAVAILABLE' }));
        },
      );
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
