/**
 * The Khala frame schemas of khala.asyncapi.yaml compiled into validators, once per
 * process. The reference server validates client frames with them; the Khala client
 * and the harness validate server frames.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { contractPaths } from './contract-files.ts';

export type KhalaSchemaName =
  | 'ClientFrame'
  | 'SubscribeFrame'
  | 'UnsubscribeFrame'
  | 'PingFrame'
  | 'ServerFrame'
  | 'SubscribedFrame'
  | 'UpdateBatchFrame'
  | 'HeartbeatFrame'
  | 'PongFrame'
  | 'ErrorFrame'
  | 'KhalaUpdate'
  | 'StaleCursorDetails'
  | 'HandshakeDenyResponse';

let compiled: Map<KhalaSchemaName, ValidateFunction> | undefined;

/** Validator of one component schema of the AsyncAPI document (draft-07 keywords). */
export function khalaFrameValidator(name: KhalaSchemaName): ValidateFunction {
  if (!compiled) {
    const document = parseYaml(readFileSync(contractPaths.asyncapi, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: 'khala.asyncapi.yaml' });
    compiled = new Map();
    for (const schemaName of ['ClientFrame', 'SubscribeFrame', 'UnsubscribeFrame', 'PingFrame', 'ServerFrame', 'SubscribedFrame', 'UpdateBatchFrame', 'HeartbeatFrame', 'PongFrame', 'ErrorFrame', 'KhalaUpdate', 'StaleCursorDetails', 'HandshakeDenyResponse'] as const) {
      compiled.set(schemaName, ajv.compile({ $ref: `khala.asyncapi.yaml#/components/schemas/${schemaName}` }));
    }
  }
  return compiled.get(name)!;
}
