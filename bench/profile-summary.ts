/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and
 * by file, so a missed benchmark target can say where the time goes.
 *
 *   npx tsx bench/profile-summary.ts PROFILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  total_ms: number;
  by_function: { name: string; self_ms: number; percent: number }[];
  by_file: { file: string; self_ms: number; percent: number }[];
}

function shortFile(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length).split('/').slice(0, 1).join('/');
  const work = url.indexOf('/work/main/');
  if (work >= 0) return url.slice(work + '/work/main/'.length);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = profile.endTime - profile.startTime;
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const f = shortFile(node.callFrame.url);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${f}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    total_ms: Math.round(total / 1000),
    by_function: rank(fn).map(([name, us]) => ({ name, self_ms: Math.round(us / 1000), percent: Number(((100 * us) / total).toFixed(1)) })),
    by_file: rank(file).map(([f, us]) => ({ file: f, self_ms: Math.round(us / 1000), percent: Number(((100 * us) / total).toFixed(1)) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  for (const path of positionals) {
    const summary = summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, Number(values.top));
    console.log(`# ${path}: ${summary.total_ms} ms`);
    console.log('## self time by file');
    for (const row of summary.by_file) console.log(`${String(row.percent).padStart(5)}%  ${String(row.self_ms).padStart(6)} ms  ${row.file}`);
    console.log('## self time by function');
    for (const row of summary.by_function) console.log(`${String(row.percent).padStart(5)}%  ${String(row.self_ms).padStart(6)} ms  ${row.name}`);
  }
}
