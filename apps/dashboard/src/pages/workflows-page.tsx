import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { api } from '../api/client';
import type { Listing, WorkflowDefinition } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { JsonView } from '../components/json-view';
import { FlowGraph } from '../graph/flow-graph';
import { useResource } from '../hooks/use-resource';

interface DefinitionNodeData extends Record<string, unknown> {
  id: string;
  who: string;
  task_type: string;
}

function DefinitionNode({ data }: NodeProps<Node<DefinitionNodeData>>) {
  return (
    <div className="step-node definition" data-step={data.id}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-head">
        <span className="step-node-id">{data.id}</span>
      </div>
      <div className="step-node-line">{data.who}</div>
      <div className="step-node-line muted">{data.task_type}</div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { definition: DefinitionNode };

/** Every workflow definition the orchestrator loaded, each version with its graph. */
export function WorkflowsPage() {
  const workflows = useResource('workflows', (signal) => api<Listing<WorkflowDefinition>>('/workflows', { signal }));
  if (workflows.data === undefined)
    return workflows.error ? <ErrorState error={workflows.error} what="the workflows" retry={workflows.refresh} /> : <Loading what="workflows" />;
  return (
    <div>
      <header className="page-head">
        <h1>Workflows</h1>
        <span className="muted">the definitions served now, read from WORKFLOWS_DIR (again when its files change)</span>
      </header>
      {workflows.data.items.length === 0 && (
        <Empty title="No workflow definition loaded.">
          Put one YAML or JSON file per <code>task_type</code> in the directory <code>WORKFLOWS_DIR</code> names: the orchestrator reads
          them when they change (or on <code>POST /workflows/reload</code>); check them first with <code>npm run workflows:validate</code>.
          Task types without a file are planned by the planner agent.
        </Empty>
      )}
      {workflows.data.items.map((definition) => (
        <section className="card workflow" key={`${definition.task_type}@${definition.version}`} data-workflow={definition.task_type} data-version={definition.version}>
          <div className="agent-head">
            <h2>
              {definition.task_type} <span className="muted">v{definition.version}</span>
            </h2>
            <span className="chip">{definition.plan === 'dynamic' ? 'planned at run time' : `${definition.steps.length} steps`}</span>
          </div>
          {definition.description && <p>{definition.description}</p>}
          {definition.plan === 'dynamic' ? (
            <p className="muted">The planner agent builds the steps for each request; every task's page shows the plan it ran.</p>
          ) : (
            <FlowGraph<DefinitionNodeData>
              steps={definition.steps.map((step) => ({
                id: step.id,
                depends_on: step.depends_on,
                width: 200,
                height: 80,
                data: { id: step.id, who: step.agent ?? (step.capability ? `any ${step.capability}` : '–'), task_type: step.task_type },
              }))}
              nodeTypes={nodeTypes}
              nodeType="definition"
              height={Math.min(420, 90 + 70 * Math.max(1, ...definition.steps.map((s) => s.depends_on.length + 1)))}
            />
          )}
          {Object.keys(definition.payload).length > 0 && (
            <details className="json">
              <summary>payload</summary>
              <JsonView value={definition.payload} label="payload" />
            </details>
          )}
        </section>
      ))}
    </div>
  );
}
