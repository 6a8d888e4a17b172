import { resolve } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { readDefinitionFiles, type DefinitionFile } from './definition-files.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { parseWorkflowDefinition, type WorkflowDefinition } from './workflow-definition.js';
import { checkWorkflowGraph, workflowNesting, type Nesting, type NestingLookup } from './workflow-graph.js';

/** The predefined workflows, one file per task_type, read and validated once at start. */
@Injectable()
export class WorkflowCatalog implements NestingLookup {
  private readonly logger = new Logger(WorkflowCatalog.name);
  private readonly byTaskType: ReadonlyMap<string, WorkflowDefinition>;
  private readonly nestings: ReadonlyMap<string, Nesting>;

  constructor(config: AppConfig) {
    const definitions = WorkflowCatalog.loadDirectory(config.WORKFLOWS_DIR, config.MAX_WORKFLOW_DEPTH);
    this.byTaskType = new Map(definitions.map((d) => [d.task_type, d]));
    this.nestings = workflowNesting(definitions);
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

  /** How deep a loaded workflow goes when it runs, counting itself, and through which workflows; undefined for a task_type with no file. */
  nesting(taskType: string): Nesting | undefined {
    return this.nestings.get(taskType);
  }

  /**
   * Reads every definition of `dir`, then how they run one another (no workflow missing, no cycle,
   * none nesting deeper than `maxWorkflowDepth`); throws WorkflowDefinitionError listing all
   * problems of all files.
   */
  static loadDirectory(dir: string, maxWorkflowDepth: number): WorkflowDefinition[] {
    let files: DefinitionFile[];
    try {
      files = readDefinitionFiles(dir);
    } catch (error) {
      throw new WorkflowDefinitionError([`${dir}: cannot read the workflows folder (${(error as Error).message})`]);
    }
    const problems: string[] = [];
    const definitions: WorkflowDefinition[] = [];
    const seen = new Map<string, string>();
    for (const read of files) {
      if ('problem' in read) {
        problems.push(read.problem);
        continue;
      }
      const { file, stem, raw } = read;
      const parsed = parseWorkflowDefinition(raw, file, stem);
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
    // A file with problems of its own would be reported again by every workflow that runs it.
    if (problems.length === 0) problems.push(...checkWorkflowGraph(definitions, maxWorkflowDepth));
    if (problems.length > 0) throw new WorkflowDefinitionError(problems);
    return definitions;
  }
}
