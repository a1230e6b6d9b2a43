/**
 * contracts/parity-policy.json: validated on load against its schema; first matching
 * rule wins; JSON-pointer globs (`*` one segment, `**` any number).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePointerGlob, loadParityPolicy, PARITY_POLICY_PATH, ParityPolicyError, parseParityPolicy } from '../../harness/parity/parity-policy.ts';

const file = JSON.parse(readFileSync(PARITY_POLICY_PATH, 'utf8'));

describe('pointer globs', () => {
  it.each([
    ['', '', true],
    ['', '/status', false],
    ['/status', '/status', true],
    ['/status', '/status/x', false],
    ['/body/*/message', '/body/error/message', true],
    ['/body/*/message', '/body/a/b/message', false],
    ['/**/message', '/message', true],
    ['/**/message', '/body/error/details/message', true],
    ['/**', '', true],
    ['/topics/run:*:events', '/topics/run:$id1:events', true],
    ['/a.b', '/aXb', false],
  ])('%j matches %j: %s', (glob, path, want) => {
    expect(compilePointerGlob(glob).test(path)).toBe(want);
  });
});

describe('the shipped policy', () => {
  const policy = loadParityPolicy();
  it.each([
    ['runs', '', 'changed', 'critical'],
    ['runs', '', 'added', 'critical'],
    ['runs', '/status', 'changed', 'critical'],
    ['runs', '/body/error/code', 'changed', 'critical'],
    ['runs', '/body/error/message', 'changed', 'warning'],
    ['khala', '/details/reason_codes/0', 'changed', 'critical'],
    ['khala', '/details/reason_code', 'changed', 'critical'],
    ['khala', '/heartbeat_ms', 'changed', 'warning'],
    ['credit', '/body/receipt/sha256', 'changed', 'ignore'],
    ['credit', '/body/new_field', 'added', 'warning'],
    ['credit', '/body/outcome', 'changed', 'critical'],
    ['credit', '/body/outcome', 'removed', 'critical'],
    ['khala', '/payload_hash', 'changed', 'critical'],
  ] as const)('%s %s (%s) is %s', (component, path, change, want) => {
    expect(policy.classify(component, path, change)).toBe(want);
  });
});

describe('validation on load', () => {
  it.each([
    ['an unknown severity', { ...file, rules: [{ component: '*', path: '/x', severity: 'fatal', why: 'x' }] }, /severity/],
    ['a rule without why', { ...file, rules: [{ component: '*', path: '/x', severity: 'warning' }] }, /why/],
    ['a path glob without a leading slash', { ...file, rules: [{ component: '*', path: 'status', severity: 'warning', why: 'x' }] }, /path/],
    ['a bad id pattern', { ...file, normalize: { ...file.normalize, id_patterns: ['run_[0-9'] } }, /not a regular expression/],
    ['another schema', { ...file, schema: 'v0' }, /schema/],
    ['an unknown field', { ...file, extra: true }, /additional/],
  ])('rejects %s', (_name, value, message) => {
    expect(() => parseParityPolicy(value)).toThrow(ParityPolicyError);
    expect(() => parseParityPolicy(value)).toThrow(message);
  });

  it('a custom policy reclassifies: first matching rule wins, default otherwise', () => {
    const policy = parseParityPolicy({
      ...file,
      default_severity: 'warning',
      rules: [
        { component: 'credit', path: '/body/**', severity: 'ignore', why: 'x' },
        { component: '*', path: '/body/**', severity: 'critical', why: 'y' },
      ],
    });
    expect(policy.classify('credit', '/body/a', 'changed')).toBe('ignore');
    expect(policy.classify('runs', '/body/a', 'changed')).toBe('critical');
    expect(policy.classify('runs', '/status', 'changed')).toBe('warning');
  });
});
