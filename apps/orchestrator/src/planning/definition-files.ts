import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseDocument } from 'yaml';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** A definition file read: its path, its name without the extension, and what it holds or why it cannot be parsed. */
export type DefinitionFile = { file: string; stem: string; raw: unknown } | { file: string; stem: string; problem: string };

/**
 * Reads every `.yaml`, `.yml` and `.json` file of `dir` (not its folders; dot files are editors'
 * and tools' leftovers), in name order, each with what it holds or the problem that it does not
 * parse. Throws when the folder cannot be read; a folder that does not exist holds none when
 * `missingIsEmpty`.
 */
export function readDefinitionFiles(dir: string, missingIsEmpty = false): DefinitionFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => !name.startsWith('.') && EXTENSIONS.has(extname(name))).sort();
  } catch (error) {
    if (missingIsEmpty && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.flatMap((name): DefinitionFile[] => {
    const file = join(dir, name);
    const stem = name.slice(0, -extname(name).length);
    try {
      return statSync(file).isFile() ? [{ file, stem, raw: parseFile(file, readFileSync(file, 'utf8')) }] : [];
    } catch (error) {
      return [{ file, stem, problem: `${file}: cannot be parsed: ${(error as Error).message.split('\n')[0] ?? ''}` }];
    }
  });
}

/** JSON, or YAML with duplicate keys, unknown tags and alias bombs refused. */
function parseFile(file: string, text: string): unknown {
  if (extname(file) === '.json') return JSON.parse(text) as unknown;
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const trouble = document.errors[0] ?? document.warnings[0];
  if (trouble) throw trouble;
  return document.toJS({ maxAliasCount: 100 }) as unknown;
}
