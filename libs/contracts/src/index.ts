export * from './agent-announcement.dto.js';
export * from './enums.js';
export * from './names.js';
export * from './subjects.js';
export * from './task-request.dto.js';
export * from './task-response.js';
export * from './validation.js';
export * from './json-limits.js';
