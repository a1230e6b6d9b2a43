/**
 * Worker thread of the delivery-latency figure: opens N live subscribers on one topic
 * and records receipt − send for every update (the payload's `t`, in
 * performance.timeOrigin + now() milliseconds, comparable across threads). A thread of
 * its own so the appender's event loop never delays a receipt timestamp.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

interface Input {
  wsUrl: string;
  token: string;
  topic: string;
  subscribers: number;
}

const { wsUrl, token, topic, subscribers } = workerData as Input;
const latencies: number[] = [];
const sockets: WebSocket[] = [];

const now = () => performance.timeOrigin + performance.now();

await Promise.all(
  Array.from(
    { length: subscribers },
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
        sockets.push(socket);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', request_id: 's', topics: [topic] })));
        socket.on('message', (data) => {
          const received = now();
          const frame = JSON.parse(data.toString()) as { type: string; updates?: { payload: { t: number } }[] };
          if (frame.type === 'subscribed') resolve();
          else if (frame.type === 'update_batch') for (const update of frame.updates!) latencies.push(received - update.payload.t);
          else if (frame.type === 'error') reject(new Error(`subscribe failed: ${JSON.stringify(frame)}`));
        });
        socket.on('error', reject);
      }),
  ),
);
parentPort!.postMessage({ type: 'ready' });
parentPort!.on('message', async (message: { type: 'finish'; expected: number; timeoutMs: number }) => {
  const until = performance.now() + message.timeoutMs;
  while (latencies.length < message.expected && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  for (const socket of sockets) socket.terminate();
  parentPort!.postMessage({ type: 'latencies', latencies });
});
