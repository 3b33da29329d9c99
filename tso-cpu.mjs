import { PdClient, grpcDialer } from './dist/src/transport/index.js';
import { systemClock, systemTimers } from './dist/src/runtime/index.js';
import { readFileSync } from 'node:fs';
const P = Number(process.argv[2]); const pids = process.argv.slice(3).map(Number);
const cpu = () => pids.map((p) => { const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; });
const pd = new PdClient([1, 2, 3].map((i) => `127.0.0.1:${P + i}`), systemClock, systemTimers, grpcDialer);
for (let i = 0; i < 500; i++) await pd.tso(1);
for (let k = 0; k < 3; k++) {
  const c0 = cpu(); const t0 = performance.now(); const N = Number(process.env.N ?? 3000);
  for (let i = 0; i < N; i++) await pd.tso(1);
  const dt = performance.now() - t0; const c1 = cpu();
  console.log('rtt us', ((dt / N) * 1000).toFixed(0), 'pd cpu us/call', c1.map((c, i) => (((c - c0[i]) * 1000) / N).toFixed(0)).join(' '), 'client cpu', '');
}
pd.close(); process.exit(0);
