import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { AppConfig } from '../config/app-config.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { parseWorkflowDefinition, type WorkflowDefinition } from './workflow-definition.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The predefined workflows, one file per task_type, read and validated once at start. */
@Injectable()
export class WorkflowCatalog {
  private readonly logger = new Logger(WorkflowCatalog.name);
  private readonly byTaskType: ReadonlyMap<string, WorkflowDefinition>;

  constructor(config: AppConfig) {
    const definitions = WorkflowCatalog.loadDirectory(config.WORKFLOWS_DIR);
    this.byTaskType = new Map(definitions.map((d) => [d.task_type, d]));
    this.logger.log(
      `loaded ${definitions.length} workflow(s) from ${resolve(config.WORKFLOWS_DIR)}: ${definitions.map((d) => `${d.task_type}@${d.version}`).join(', ')}`,
    );
  }

  get(taskType: string): WorkflowDefinition | undefined {
    return this.byTaskType.get(taskType);
  }

  list(): WorkflowDefinition[] {
    return [...this.byTaskType.values()];
  }

  /** Reads every definition of `dir`; throws WorkflowDefinitionError listing all problems of all files. */
  static loadDirectory(dir: string): WorkflowDefinition[] {
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => EXTENSIONS.has(extname(name))).sort();
    } catch (error) {
      throw new WorkflowDefinitionError([`${dir}: cannot read the workflows folder (${(error as Error).message})`]);
    }
    const problems: string[] = [];
    const definitions: WorkflowDefinition[] = [];
    const seen = new Map<string, string>();
    for (const name of names) {
      const file = join(dir, name);
      if (!statSync(file).isFile()) continue;
      let raw: unknown;
      try {
        const text = readFileSync(file, 'utf8');
        raw = extname(name) === '.json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
      } catch (error) {
        problems.push(`${file}: cannot be parsed: ${(error as Error).message.split('\n')[0] ?? ''}`);
        continue;
      }
      const parsed = parseWorkflowDefinition(raw, file, name.slice(0, -extname(name).length));
      problems.push(...parsed.problems);
      if (!parsed.definition) continue;
      const other = seen.get(parsed.definition.task_type);
      if (other) {
        problems.push(`${file}: task_type "${parsed.definition.task_type}" is also defined by ${other}`);
        continue;
      }
      seen.set(parsed.definition.task_type, file);
      definitions.push(parsed.definition);
    }
    if (problems.length > 0) throw new WorkflowDefinitionError(problems);
    return definitions;
  }
}
