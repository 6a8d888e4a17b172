import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseTaskType } from '../args.js';
import { CommandFailed, UsageError } from '../cli-error.js';
import { renderAgents, renderReload, renderWorkflows } from '../format/lists.js';
import { renderWorkflowGraph, workflowGraphJson } from '../format/workflow-graph.js';
import type { CommandContext } from './command-context.js';
import { validateWorkflowFiles } from './validate-workflow-files.js';

interface JsonOption {
  json?: boolean;
}

/**
 * agents, workflows, workflows validate, workflows reload and workflows graph: what the orchestrator runs with.
 * (`--json` after `workflows validate` is taken by `workflows` itself, which has one too: the
 * subcommands read it with the options of their parents.)
 */
export function addCatalogCommands(program: Command, context: CommandContext): void {
  program
    .command('agents')
    .description('live agents: instances, capabilities, sub-tasks in flight, capacity and load')
    .option('--json', 'print { items: [...] }, one JSON document')
    .action(async (options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const agents = await client.agents();
        if (options.json) out.json({ items: agents });
        else out.line(...renderAgents(agents, out.colors));
      });
    });

  const workflows = program
    .command('workflows')
    .description('the workflow definitions the orchestrator loaded (and: validate, graph)')
    .option('--json', 'print { items: [...] }, one JSON document')
    .action(async (options: JsonOption) => {
      await context.withClient(async (client, out) => {
        const items = await client.workflows();
        if (options.json) out.json({ items });
        else out.line(...renderWorkflows(items, out.colors));
      });
    });

  workflows
    .command('validate')
    .description('check workflow files without the orchestrator: each problem with its file, step and reason (exit 1 when there is one)')
    .argument('[dir]', 'the folder of workflow files', 'workflows')
    .option('--json', 'print { dir, workflows, problems }, one JSON document')
    .action(async (dir: string, _options: JsonOption, command: Command) => {
      const options = command.optsWithGlobals<JsonOption>();
      const out = context.output;
      const report = await validateWorkflowFiles(resolve(dir), context.env);
      if (options.json) out.json(report);
      else {
        for (const w of report.workflows) out.line(`ok     ${w.file}: ${w.task_type} version ${w.version}, ${w.plan === 'dynamic' ? 'planned at run time' : `${w.steps} steps`}`);
        for (const problem of report.problems) out.error(out.colors.red(`error  ${problem}`));
        if (report.problems.length === 0) out.line(`${report.workflows.length} workflow(s) in ${report.dir}: no problems`);
        else out.error(`${report.problems.length} problem(s) in ${report.dir}`);
      }
      if (report.problems.length > 0) throw new CommandFailed(`${report.problems.length} problem(s) in ${report.dir}`);
    });

  workflows
    .command('reload')
    .description('make the orchestrator read its workflow files again (every replica follows); a refused file is named with every problem (exit 1)')
    .option('--json', 'print { changed, added, updated, removed, workflows, fingerprint }, one JSON document')
    .action(async (_options: JsonOption, command: Command) => {
      const options = command.optsWithGlobals<JsonOption>();
      await context.withClient(async (client, out) => {
        const change = await client.reloadWorkflows();
        if (options.json) out.json(change);
        else out.line(...renderReload(change));
      });
    });

  workflows
    .command('graph')
    .description("a workflow's steps as a graph: stage by stage, who runs each step and what it waits for")
    .argument('<task_type>')
    .option('--json', 'print { task_type, version, steps, stages, edges }, one JSON document')
    .action(async (taskType: string, _options: JsonOption, command: Command) => {
      const options = command.optsWithGlobals<JsonOption>();
      parseTaskType(taskType);
      await context.withClient(async (client, out) => {
        const all = await client.workflows();
        const workflow = all.find((w) => w.task_type === taskType);
        if (!workflow) throw new UsageError(`task_type: no workflow "${taskType}" is loaded (loaded: ${all.map((w) => w.task_type).join(', ') || 'none'})`);
        if (options.json) out.json(workflowGraphJson(workflow));
        else out.line(...renderWorkflowGraph(workflow, out.colors));
      });
    });
}
