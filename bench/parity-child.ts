/**
 * Child process of `npm run bench`: runs runParityBench (bench/parity-compare.ts) in
 * a fresh process, so its peak RSS is its own, and prints the result as one JSON line.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
const modulePath = './parity-compare.ts';
const { runParityBench } = (await import(modulePath)) as {
  runParityBench: (options: { events: number }) => Promise<{ eventsPerSecond: number; peakRssMb: number }>;
};
const result = await runParityBench({ events: Number(values.events) });
console.log(JSON.stringify(result));
