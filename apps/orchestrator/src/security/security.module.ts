import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JsonBodyGuard } from '../http/json-body.guard.js';
import { ApiKeyGuard } from './api-key.guard.js';

/** The key first (a caller without it learns nothing of the route), then what its body must be. */
@Module({
  providers: [
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_GUARD, useClass: JsonBodyGuard },
  ],
})
export class SecurityModule {}
