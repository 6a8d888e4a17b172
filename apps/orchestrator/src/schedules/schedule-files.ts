import { isPlainObject, validateScheduleRequest, type ScheduleSpec } from '@orchestrator/contracts';
import { readDefinitionFiles, type DefinitionFile } from '../planning/definition-files.js';
import { scheduleProblems, type ScheduleContext } from './schedule-validator.js';

/** A schedule declared in a file. */
export interface ScheduleFile {
  spec: ScheduleSpec;
  file: string;
}

/** Schedule files that cannot be used: the service refuses to start, naming every problem. */
export class ScheduleFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid schedule files:\n  ${problems.join('\n  ')}`);
    this.name = 'ScheduleFileError';
  }
}

/**
 * Reads the schedules of `dir`, one file each (`<schedule_id>.yaml`, `.yml` or `.json`, with the
 * fields of `POST /schedules`; `schedule_id` may be left out and is then the file's name), and
 * checks each as `POST /schedules` would. A folder that does not exist holds none. Throws
 * ScheduleFileError listing every problem of every file.
 */
export function loadScheduleFiles(dir: string, context: ScheduleContext): ScheduleFile[] {
  let files: DefinitionFile[];
  try {
    files = readDefinitionFiles(dir, true);
  } catch (error) {
    throw new ScheduleFileError([`${dir}: cannot read the schedules folder (${(error as Error).message})`]);
  }
  const problems: string[] = [];
  const schedules: ScheduleFile[] = [];
  for (const read of files) {
    if ('problem' in read) {
      problems.push(read.problem);
      continue;
    }
    const { file, stem, raw } = read;
    if (isPlainObject(raw) && raw['schedule_id'] !== undefined && raw['schedule_id'] !== stem) {
      problems.push(`${file}: schedule_id: ${JSON.stringify(raw['schedule_id'])} is not the file's name ("${stem}")`);
      continue;
    }
    const shape = validateScheduleRequest(isPlainObject(raw) ? { schedule_id: stem, ...raw } : raw);
    const found = shape.ok ? scheduleProblems(shape.value, context) : [shape.error];
    if (!shape.ok || found.length > 0) {
      problems.push(...found.map((problem) => `${file}: ${problem}`));
      continue;
    }
    schedules.push({ spec: shape.value, file });
  }
  if (problems.length > 0) throw new ScheduleFileError(problems);
  return schedules;
}
