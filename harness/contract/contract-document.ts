/**
 * Reading a contract document a user hands to `contracts lint` or `contracts diff`: YAML or
 * JSON from a file, with every failure a {@link ContractInputError} that names the file in
 * one line (the CLI prints it and exits, never a stack trace).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

/** A contract file that cannot be read or parsed: `<file>: <reason>`. */
export class ContractInputError extends Error {
  override readonly name: string = 'ContractInputError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** An error's message on one line (YAML parser messages span several). */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * The text and parsed value of a YAML or JSON file. Duplicate keys are accepted here
 * (the linter reports them with their line). `file` is named in errors as given; `path`
 * is where it is read from (default: `file`).
 */
export async function readContractDocument(file: string, path = file, makeError = (reason: string) => new ContractInputError(file, reason)): Promise<{ text: string; data: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw makeError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read: ${oneLine(error)}`);
  }
  try {
    return { text, data: parseYaml(text, { uniqueKeys: false }) };
  } catch (error) {
    throw makeError(`not valid YAML or JSON: ${oneLine(error)}`);
  }
}
