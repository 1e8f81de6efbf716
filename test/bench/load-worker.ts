import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

// The load generator of the tokens bench, in its own thread: its HTTP client work does not run
// on the event loop of the server it measures (on 2 cores: one for the server, one for load).

export interface LoadJob {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  resource: string;
  label: string;
  requests: number;
  concurrency: number;
}

const job = workerData as LoadJob;
const auth = `Basic ${Buffer.from(`${encodeURIComponent(job.clientId)}:${encodeURIComponent(job.clientSecret)}`).toString('base64')}`;
const body = new URLSearchParams({ grant_type: 'client_credentials', resource: job.resource }).toString();
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: job.concurrency }, async () => {
  while (next < job.requests) {
    next++;
    const t0 = performance.now();
    const res = await fetch(job.tokenUrl, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const json = (await res.json()) as { access_token?: string };
    latencies.push(performance.now() - t0);
    if (res.status !== 200 || !json.access_token) throw new Error(`${job.label}: ${res.status} ${JSON.stringify(json)}`);
  }
}));
parentPort!.postMessage({ seconds: (performance.now() - started) / 1000, latencies });
