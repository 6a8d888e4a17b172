import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { WorkflowSummaryView } from '@orchestrator/contracts';
import { WorkflowListDoc } from '../http/openapi.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

export type { WorkflowSummaryView } from '@orchestrator/contracts';

/** `GET /workflows`: the predefined workflows this replica loaded, with their versions. */
@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsHttpController {
  constructor(private readonly catalog: WorkflowCatalog) {}

  @Get()
  @ApiOperation({ summary: 'The workflow definitions loaded at start, with their versions' })
  @ApiOkResponse({ type: WorkflowListDoc })
  list(): { items: WorkflowSummaryView[] } {
    return {
      items: this.catalog
        .list()
        .sort((a, b) => a.task_type.localeCompare(b.task_type))
        .map((definition) => ({
          task_type: definition.task_type,
          version: definition.version,
          description: definition.description ?? null,
          plan: definition.dynamic ? 'dynamic' : 'fixed',
          payload: definition.payload,
          steps: definition.steps.map((step) => ({
            id: step.id,
            agent: step.agent,
            capability: step.capability,
            task_type: step.task_type,
            depends_on: step.depends_on,
          })),
        })),
    };
  }
}
