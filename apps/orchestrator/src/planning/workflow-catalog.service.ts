import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import type { WorkflowReloadView } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { readDefinitionFiles, type DefinitionFile } from './definition-files.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { parseWorkflowDefinition, type WorkflowDefinition } from './workflow-definition.js';
import { checkWorkflowGraph, workflowNesting, type Nesting, type NestingLookup } from './workflow-graph.js';

/** The definitions of a folder as read at one moment, with what tells a later reading apart. */
interface Catalog {
  byTaskType: ReadonlyMap<string, WorkflowDefinition>;
  nestings: ReadonlyMap<string, Nesting>;
  /** A hash of every definition file's name and bytes: any change to the folder changes it. */
  fingerprint: string;
  /** A hash of each definition as parsed: a change of comments or layout leaves it. */
  hashes: ReadonlyMap<string, string>;
}

/**
 * The predefined workflows, one file per task_type: read and validated at start, and again on
 * `reload` (see WorkflowReloader). A reload replaces the whole catalog at once, or, when any file
 * has a problem, nothing: the definitions in use keep serving. Plans are stored with each workflow
 * when it starts, so a new version serves new runs only.
 */
@Injectable()
export class WorkflowCatalog implements NestingLookup {
  private readonly logger = new Logger(WorkflowCatalog.name);
  private current: Catalog;

  constructor(private readonly config: AppConfig) {
    this.current = WorkflowCatalog.read(config.WORKFLOWS_DIR, config.MAX_WORKFLOW_DEPTH);
    const definitions = this.list();
    this.logger.log(
      `loaded ${definitions.length} workflow(s) from ${resolve(config.WORKFLOWS_DIR)}: ${definitions.map((d) => `${d.task_type}@${d.version}`).join(', ')}`,
    );
  }

  get(taskType: string): WorkflowDefinition | undefined {
    return this.current.byTaskType.get(taskType);
  }

  list(): WorkflowDefinition[] {
    return [...this.current.byTaskType.values()];
  }

  /** How deep a loaded workflow goes when it runs, counting itself, and through which workflows; undefined for a task_type with no file. */
  nesting(taskType: string): Nesting | undefined {
    return this.current.nestings.get(taskType);
  }

  /** The fingerprint of the files the catalog was read from (see `filesFingerprintOrNull`). */
  get fingerprint(): string {
    return this.current.fingerprint;
  }

  /**
   * Reads the folder again and, when every file is valid, serves what it holds from now on;
   * returns what changed. Throws WorkflowDefinitionError listing every problem, changing nothing.
   */
  reload(): WorkflowReloadView {
    const next = WorkflowCatalog.read(this.config.WORKFLOWS_DIR, this.config.MAX_WORKFLOW_DEPTH);
    const before = this.current;
    const version = (catalog: Catalog, taskType: string): number => catalog.byTaskType.get(taskType)?.version ?? 0;
    const change: WorkflowReloadView = { changed: false, added: [], updated: [], removed: [], workflows: next.byTaskType.size, fingerprint: next.fingerprint };
    for (const [taskType, hash] of next.hashes) {
      const was = before.hashes.get(taskType);
      if (was === undefined) change.added.push({ task_type: taskType, version: version(next, taskType) });
      else if (was !== hash) change.updated.push({ task_type: taskType, from_version: version(before, taskType), to_version: version(next, taskType) });
    }
    for (const taskType of before.hashes.keys()) if (!next.hashes.has(taskType)) change.removed.push({ task_type: taskType, version: version(before, taskType) });
    change.changed = change.added.length + change.updated.length + change.removed.length > 0;
    this.current = next;
    return change;
  }

  /** A hash of the definition files of `dir` as they are now, to tell whether a reload would read anything new; null when they cannot be read. */
  static filesFingerprintOrNull(dir: string): string | null {
    try {
      return fingerprintOf(definitionFiles(dir));
    } catch {
      return null;
    }
  }

  /**
   * Reads every definition of `dir`, then how they run one another (no workflow missing, no cycle,
   * none nesting deeper than `maxWorkflowDepth`); throws WorkflowDefinitionError listing all
   * problems of all files.
   */
  static loadDirectory(dir: string, maxWorkflowDepth: number): WorkflowDefinition[] {
    return [...WorkflowCatalog.read(dir, maxWorkflowDepth).byTaskType.values()];
  }

  private static read(dir: string, maxWorkflowDepth: number): Catalog {
    const files = definitionFiles(dir);
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
    return {
      byTaskType: new Map(definitions.map((d) => [d.task_type, d])),
      nestings: workflowNesting(definitions),
      fingerprint: fingerprintOf(files),
      hashes: new Map(definitions.map((d) => [d.task_type, sha256(JSON.stringify({ ...d, source: undefined }))])),
    };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function fingerprintOf(files: readonly DefinitionFile[]): string {
  return sha256(JSON.stringify(files.map(({ file, text }) => [basename(file), sha256(text)])));
}

/** The definition files of `dir`, read, in name order. */
function definitionFiles(dir: string): DefinitionFile[] {
  try {
    return readDefinitionFiles(dir);
  } catch (error) {
    throw new WorkflowDefinitionError([`${dir}: cannot read the workflows folder (${(error as Error).message})`]);
  }
}
