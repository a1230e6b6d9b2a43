/**
 * Child process of `npm run bench`: the reference server (`serve()`, as
 * `runtime-gate serve` runs it) on the bench's database. Reports its URL over IPC
 * and stops gracefully on the message "stop" (so a --cpu-prof profile is written).
 */
import { toRuntimeConfig } from '../reference-server/config/runtime-config.ts';
import { loadRuntimeEnv } from '../reference-server/config/runtime-env.ts';
import { serve } from '../reference-server/main.ts';

const env = { ...process.env };
const running = await serve({ env, port: 0 });
if ('exitCode' in running) {
  process.exit(running.exitCode);
}
const config = toRuntimeConfig(loadRuntimeEnv(env));
process.send!({ url: running.url, internalToken: config.internalToken });
process.on('message', (message) => {
  if (message === 'stop') {
    running
      .stop()
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  }
});
