/**
 * Renders the configuration table of README.md from contracts/runtime-env.schema.json,
 * between the `<!-- env-table:start -->` and `<!-- env-table:end -->` markers.
 */
import { contractPaths, readJsonContract } from '../contracts/contract-files.ts';

interface Spec {
  description: string;
  default?: string;
  'x-dev-default'?: string;
  'x-secret': boolean;
  'x-ownership': string;
}

export const ENV_TABLE_START = '<!-- env-table:start (generated from contracts/runtime-env.schema.json by `npm run generate`) -->';
export const ENV_TABLE_END = '<!-- env-table:end -->';

export function renderEnvTable(): string {
  const schema = readJsonContract<{ properties: Record<string, Spec>; 'x-prod-required': string[] }>(contractPaths.runtimeEnvSchema);
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    '| Variable | Default (dev) | Default (prod) | Secret | Owner | Description |',
    '|---|---|---|---|---|---|',
  ];
  for (const [name, spec] of Object.entries(schema.properties)) {
    const prodRequired = schema['x-prod-required'].includes(name);
    const devDefault = spec.default ?? spec['x-dev-default'];
    const show = (value: string | undefined) => (value === undefined ? '—' : value === '' ? '(empty)' : spec['x-secret'] ? '(fixed dev value)' : `\`${value}\``);
    lines.push(
      `| \`${name}\` | ${name === 'DATABASE_URL' ? 'embedded PostgreSQL' : show(devDefault)} | ${prodRequired ? '**required**' : show(spec.default)} | ${spec['x-secret'] ? 'yes' : ''} | ${spec['x-ownership']} | ${cell(spec.description)} |`,
    );
  }
  return `${ENV_TABLE_START}\n${lines.join('\n')}\n${ENV_TABLE_END}`;
}

/** README text with its table replaced by the rendered one. */
export function withEnvTable(readme: string): string {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no env-table markers');
  return readme.slice(0, start) + renderEnvTable() + readme.slice(end + ENV_TABLE_END.length);
}
