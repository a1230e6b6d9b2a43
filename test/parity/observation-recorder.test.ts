/**
 * Observation helpers: SSE bodies parsed into frames, HTTP answers recorded with the
 * request line decoded and aliased, and their policy component.
 */
import { describe, expect, it } from 'vitest';
import { Normalizer } from '../../harness/parity/normalize.ts';
import { componentOfPath, ObservationRecorder } from '../../harness/parity/observation-recorder.ts';
import { loadParityPolicy } from '../../harness/parity/parity-policy.ts';
import { parseSse } from '../../harness/scenarios/scenario.ts';

describe('observations', () => {
  it('parses SSE frames (id, event, JSON data), skipping comments', () => {
    const text = ': hello\n\nevent: message\nid: 1\ndata: {"seq":1}\n\nevent: message\nid: 2\ndata: not json\n\n';
    expect(parseSse(text)).toEqual([
      { id: '1', event: 'message', data: { seq: 1 } },
      { id: '2', event: 'message', data: 'not json' },
    ]);
  });

  it.each([
    ['/internal/v1/runs/x/events', 'runs'],
    ['/internal/v1/credit/settle', 'credit'],
    ['/internal/v1/khala/topics/t/messages', 'khala'],
    ['/internal/v1/sync/token', 'sync'],
    ['/healthz', 'http'],
  ])('%s is component %s', (path, component) => {
    expect(componentOfPath(path)).toBe(component);
  });

  it('records an HTTP answer with the request line decoded and ids aliased', () => {
    const recorder = new ObservationRecorder(new Normalizer(loadParityPolicy().file.normalize));
    const runId = `run_${'ab'.repeat(16)}`;
    recorder.http('poll', 'GET', `/internal/v1/khala/topics/${encodeURIComponent(`run:${runId}:events`)}/messages?after_seq=0`, { status: 200, body: { topic: `run:${runId}:events` } });
    expect(recorder.entries).toEqual([{ component: 'khala', key: 'poll', value: { request: 'GET /internal/v1/khala/topics/run:$id1:events/messages?after_seq=0', status: 200, body: { topic: 'run:$id1:events' } } }]);
  });
});

describe('baseline health', () => {
  it('counts 5xx answers and missing answers as server errors (they void a comparison on the baseline)', () => {
    const recorder = new ObservationRecorder(new Normalizer(loadParityPolicy().file.normalize));
    recorder.http('a', 'GET', '/healthz', { status: 200, body: {} });
    recorder.http('b', 'POST', '/internal/v1/runs', { status: 409, body: {} });
    recorder.http('c', 'POST', '/internal/v1/runs/x/events', { status: 500, body: {} });
    recorder.http('d', 'GET', '/internal/v1/runs/x', { error: 'no_answer' });
    expect(recorder.serverErrors).toEqual(['c: POST /internal/v1/runs/x/events → 500', 'd: GET /internal/v1/runs/x → no_answer']);
  });
});
