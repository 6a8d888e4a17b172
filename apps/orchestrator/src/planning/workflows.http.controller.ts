import { BadRequestException, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode, type WorkflowReloadView, type WorkflowSummaryView } from '@orchestrator/contracts';
import { ErrorDoc, WorkflowListDoc, WorkflowReloadDoc } from '../http/openapi.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { WorkflowReloader } from './workflow-reloader.service.js';

export type { WorkflowSummaryView } from '@orchestrator/contracts';

/** `GET /workflows`: the predefined workflows this replica serves, with their versions; `POST /workflows/reload`. */
@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsHttpController {
  constructor(
    private readonly catalog: WorkflowCatalog,
    private readonly reloader: WorkflowReloader,
  ) {}

  /** 200 with what changed; 400 with every problem of the files, the definitions in use kept. */
  @Post('reload')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Read the workflow files again; the other replicas follow',
    description: 'All the files or none: a file with a problem is refused, with every problem named, and the definitions in use keep serving. New versions serve new runs only.',
  })
  @ApiOkResponse({ type: WorkflowReloadDoc })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'A file is refused: `problems` lists every problem, with its file' })
  reload(): WorkflowReloadView {
    try {
      return this.reloader.reload('request');
    } catch (error) {
      if (!(error instanceof WorkflowDefinitionError)) throw error;
      throw new BadRequestException({ code: ErrorCode.InvalidWorkflow, message: error.message, problems: error.problems });
    }
  }

  @Get()
  @ApiOperation({ summary: 'The workflow definitions this replica serves, with their versions' })
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
