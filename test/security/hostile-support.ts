/**
 * Raw HTTP for hostile-input tests: node:http (which, unlike fetch, sends whatever bytes
 * and headers it is given) with a hard deadline, and the rule every answer must meet.
 */
import { request } from 'node:http';
import type { OpenApiContract } from '../../contracts/openapi-operations.ts';

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  body: unknown;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/**
 * Sends one request; resolves with the answer, or rejects when none came within the deadline
 * (a hang) or the connection was cut without one. Event streams resolve on their headers.
 */
export function sendRaw(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const timeoutMs = req.timeoutMs ?? 10_000;
    const headers: Record<string, string | number> = { ...(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const outgoing = request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.startsWith('text/event-stream')) {
        clearTimeout(timer);
        res.destroy();
        resolve({ status: res.statusCode ?? 0, contentType, text: '', body: undefined });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (contentType.includes('json')) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, contentType, text, body });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`${req.method} ${req.path.slice(0, 120)}: no answer within ${timeoutMs} ms (hang)`));
    }, timeoutMs);
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${req.method} ${req.path.slice(0, 120)}: connection failed without an answer: ${error.message}`));
    });
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });
}

export const ERROR_CODES = new Set(['unauthorized', 'forbidden', 'invalid_request', 'not_found', 'conflict', 'stale_cursor', 'rate_limited', 'payload_too_large', 'write_path_frozen', 'dependency_unavailable', 'internal_error']);

/**
 * Problems with an answer to a hostile request: a 5xx, an error without the error envelope,
 * or a status/body the operation does not document. Empty when the answer is acceptable.
 */
export function answerProblems(contract: OpenApiContract, operationId: string | undefined, response: RawResponse): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`answered ${response.status}: ${response.text.slice(0, 300)}`);
  if (response.status >= 400) {
    const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (typeof code !== 'string' || !ERROR_CODES.has(code)) problems.push(`${response.status} without the error envelope: ${response.text.slice(0, 300)}`);
  }
  if (operationId && response.status !== 404) {
    for (const v of contract.validateResponse(operationId, response.status, response.body, response.contentType)) problems.push(`${operationId} ${response.status}: ${v.path} ${v.message}`);
  }
  return problems;
}
