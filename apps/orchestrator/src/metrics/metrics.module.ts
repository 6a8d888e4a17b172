import { Global, Module } from '@nestjs/common';
import { MetricsHttpController } from './metrics.http.controller.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({ controllers: [MetricsHttpController], providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
