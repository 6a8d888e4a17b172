import { watch, type FSWatcher } from 'node:fs';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { isPlainObject, WORKFLOWS_RELOADED_SUBJECT, type WorkflowReloadView } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

/** What made a replica read its workflow files again. */
export type ReloadCause = 'request' | 'watch' | 'check' | 'broadcast';

/** Files written in a burst (an editor's save, a checkout) are read once they are quiet this long. */
const QUIET_MS = 250;

const decoder = new TextDecoder();

/**
 * Keeps the workflow catalog in step with WORKFLOWS_DIR on every replica: a reload is asked for
 * (`POST /workflows/reload`), or follows a change of the files (fs.watch, debounced), or a
 * periodic comparison of their hash with what was loaded (WORKFLOWS_CHECK_INTERVAL_MS: what
 * fs.watch misses, such as a Kubernetes ConfigMap swapping its folder), or another replica's
 * broadcast that its files changed. Files with a problem are refused, with every problem named,
 * and the definitions in use keep serving.
 */
@Injectable()
export class WorkflowReloader implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkflowReloader.name);
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private quiet: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The fingerprint of files last refused, so that a bad file is reported once, not at every check. */
  private refused: string | null = null;

  constructor(
    private readonly catalog: WorkflowCatalog,
    private readonly config: AppConfig,
    private readonly publisher: MessagePublisher,
  ) {}

  onApplicationBootstrap(): void {
    const dir = this.config.WORKFLOWS_DIR;
    if (this.config.WORKFLOWS_WATCH === 'true') {
      try {
        this.watcher = watch(dir, { persistent: false }, () => this.soon());
        this.watcher.on('error', (error) => this.logger.warn(`watching ${dir} stopped (${error.message}); changes are found by the periodic check`));
      } catch (error) {
        this.logger.warn(`cannot watch ${dir} (${(error as Error).message}); changes are found by the periodic check`);
      }
    }
    if (this.config.WORKFLOWS_CHECK_INTERVAL_MS > 0) {
      this.timer = setInterval(() => this.ifChanged('check'), this.config.WORKFLOWS_CHECK_INTERVAL_MS);
      this.timer.unref();
    }
    this.unsubscribe = this.publisher.subscribe(WORKFLOWS_RELOADED_SUBJECT, (message) => {
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(message.data));
      } catch {
        return;
      }
      if (!isPlainObject(body) || body['replica'] === this.publisher.replicaId || body['fingerprint'] === this.catalog.fingerprint) return;
      this.ifChanged('broadcast');
    });
  }

  beforeApplicationShutdown(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.quiet);
    this.unsubscribe?.();
  }

  /**
   * Reads the files again and serves them from now on; tells the other replicas when they changed.
   * Throws WorkflowDefinitionError, listing every problem, when any file is refused.
   */
  reload(cause: ReloadCause): WorkflowReloadView {
    let change: WorkflowReloadView;
    try {
      change = this.catalog.reload();
    } catch (error) {
      if (error instanceof WorkflowDefinitionError) this.refused = WorkflowCatalog.filesFingerprintOrNull(this.config.WORKFLOWS_DIR);
      throw error;
    }
    this.refused = null;
    if (!change.changed) return change;
    const names = (list: { task_type: string }[]): string => list.map((w) => w.task_type).join(', ') || 'none';
    this.logger.log(`workflows reloaded (${cause}): added ${names(change.added)}; updated ${names(change.updated)}; removed ${names(change.removed)}`);
    // Each replica reads its own files: the message says only that they changed, and to what.
    if (cause !== 'broadcast') this.publisher.publish(WORKFLOWS_RELOADED_SUBJECT, { ...change, replica: this.publisher.replicaId });
    return change;
  }

  private soon(): void {
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.ifChanged('watch'), QUIET_MS);
    this.quiet.unref();
  }

  /** Reloads when the files differ from those loaded (and from those last refused). */
  private ifChanged(cause: ReloadCause): void {
    const now = WorkflowCatalog.filesFingerprintOrNull(this.config.WORKFLOWS_DIR);
    if (now === null || now === this.catalog.fingerprint || now === this.refused) return;
    try {
      this.reload(cause);
    } catch (error) {
      const problems = error instanceof WorkflowDefinitionError ? error.problems.join('; ') : (error as Error).message;
      this.logger.error(`workflow files refused (${cause}); the definitions loaded before keep serving: ${problems}`);
    }
  }
}
