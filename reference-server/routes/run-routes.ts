/**
 * Authority write routes (SPEC §2.1 "Runs"), honouring the authority write mode:
 * rust_active writes, shadow_only records without publishing (202), read_only
 * answers 503 write_path_frozen.
 */
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { RunAuthority } from '../authority/run-authority.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { ApiError } from '../http/api-error.ts';
import type { OperationHandler } from '../http/route-table.ts';

type AppendRunEventRequest = components['schemas']['AppendRunEventRequest'];
type CreateRunRequest = components['schemas']['CreateRunRequest'];
type CancelRunRequest = components['schemas']['CancelRunRequest'];

export interface RunRouteDeps {
  config: RuntimeConfig;
  runs: RunAuthority;
}

function assertWritable(config: RuntimeConfig): void {
  if (config.writeMode === 'read_only') {
    throw new ApiError('write_path_frozen', 'authority writes are frozen (RUNTIME_AUTHORITY_WRITE_MODE=read_only)', {
      authority_write_mode: 'read_only',
    });
  }
}

export function runRoutes({ config, runs }: RunRouteDeps): Record<string, OperationHandler> {
  return {
    createRun: async ({ headers, body }) => {
      assertWritable(config);
      const request = body as CreateRunRequest;
      if (config.writeMode === 'shadow_only') {
        return { status: 202, body: await runs.recordShadowWrite('create_run', null, { owner: headers['x-oa-user-id'], ...request }) };
      }
      const run = await runs.createRun(String(headers['x-oa-user-id']), request);
      return { status: 201, body: { run } };
    },

    getRun: async ({ params }) => ({ status: 200, body: { run: await runs.getRun(params.run_id!) } }),

    appendRunEvent: async ({ params, body }) => {
      assertWritable(config);
      const request = body as AppendRunEventRequest;
      if (config.writeMode === 'shadow_only') {
        await runs.getRun(params.run_id!);
        return { status: 202, body: await runs.recordShadowWrite('append_run_event', params.run_id!, request) };
      }
      const { event, idempotentReplay } = await runs.appendEvent(params.run_id!, request);
      return { status: 200, body: { event, idempotent_replay: idempotentReplay } };
    },

    cancelRun: async ({ params, body }) => {
      assertWritable(config);
      const request = (body ?? {}) as CancelRunRequest;
      if (config.writeMode === 'shadow_only') {
        await runs.getRun(params.run_id!);
        return { status: 202, body: await runs.recordShadowWrite('cancel_run', params.run_id!, request) };
      }
      const { run, idempotentReplay } = await runs.cancelRun(params.run_id!, request.reason);
      return { status: idempotentReplay ? 200 : 202, body: { run, idempotent_replay: idempotentReplay } };
    },
  };
}
