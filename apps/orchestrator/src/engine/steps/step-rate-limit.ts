import { evaluateKey } from '../../planning/policies.js';
import type { PlannedStep } from '../../planning/plan.js';
import { stepBucket, type RateBucket } from '../../registry/rate-buckets.service.js';
import type { Workflow } from '../workflow.js';
import { templateContext } from '../workflow-view.js';

/**
 * The bucket of a step's `rate_limit`: one per step of the workflow, or one per value of its `key`
 * (CEL over the request and the results of the step's prerequisites). Throws when the key cannot
 * be evaluated.
 */
export async function stepRateBucket(wf: Workflow, planned: PlannedStep): Promise<RateBucket | null> {
  const rate = planned.rate_limit;
  if (!rate) return null;
  let key: string | null = null;
  if (rate.key !== undefined) {
    const { request, steps } = await templateContext(wf);
    key = evaluateKey(rate.key, { request, steps });
  }
  return stepBucket(wf.plan.task_type, planned.id, key, rate);
}
