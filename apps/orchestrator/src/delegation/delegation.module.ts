import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { AgentRouter } from './agent-router.service.js';
import { DelegationService } from './delegation.service.js';

@Module({ imports: [RegistryModule], providers: [DelegationService, AgentRouter], exports: [DelegationService, AgentRouter] })
export class DelegationModule {}
