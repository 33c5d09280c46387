// Which Events a status change is worth, as a pure function of the status before and after. Only transitions
// count: an unchanged status gives none (and is not even written), so an idle operator records nothing.
import type { Condition, ConditionType, VirtualBMCStatus } from '../api/types.ts';
import type { EventSpec } from '../kube/events.ts';

const cond = (s: VirtualBMCStatus | undefined, type: ConditionType): Condition | undefined =>
  s?.conditions?.find((c) => c.type === type);

const POWER_REASON: Record<string, string> = { On: 'PowerOn', Off: 'PowerOff' };

/**
 * - Ready: becoming Ready (Normal, reason Ready); a change of its status or reason while not Ready (reason = the
 *   condition's reason, e.g. AgentUnreachable; Warning when it was Ready before). The first status of a new object
 *   records only Ready=True.
 * - Power: the agent reporting On or Off after something else (PowerOn, PowerOff).
 * - Degraded=True for a pod failure (PodFailed, ImagePullBackOff, CrashLoopBackOff, ...), Warning. A failed
 *   reconcile (ReconcileFailed) is recorded where it fails, as ReconcileError.
 */
export function statusEvents(prev: VirtualBMCStatus | undefined, next: VirtualBMCStatus): EventSpec[] {
  const out: EventSpec[] = [];
  const [pr, nr] = [cond(prev, 'Ready'), cond(next, 'Ready')];
  if (nr && (pr ? pr.status !== nr.status || pr.reason !== nr.reason : nr.status === 'True')) {
    if (nr.status === 'True') {
      out.push({ type: 'Normal', reason: 'Ready', action: 'StatusChange', note: `Ready: ${nr.message}` });
    } else {
      out.push({
        type: pr?.status === 'True' ? 'Warning' : 'Normal',
        reason: nr.reason,
        action: 'StatusChange',
        note: `not Ready${pr ? ` (was ${pr.reason})` : ''}: ${nr.message}`,
      });
    }
  }
  const [pp, np] = [prev?.powerState ?? 'Unknown', next.powerState ?? 'Unknown'];
  const powerReason = POWER_REASON[np];
  if (powerReason && pp !== np) {
    out.push({
      type: 'Normal',
      reason: powerReason,
      action: 'PowerChange',
      // Not "(was ...)": the state before may be Unknown or PoweringOn, and the same note makes repeats one series.
      note: `the agent reports the VM powered ${np === 'On' ? 'on' : 'off'}`,
    });
  }
  const [pd, nd] = [cond(prev, 'Degraded'), cond(next, 'Degraded')];
  if (nd?.status === 'True' && nd.reason !== 'ReconcileFailed' && (pd?.status !== 'True' || pd.reason !== nd.reason)) {
    out.push({ type: 'Warning', reason: nd.reason, action: 'StatusChange', note: nd.message });
  }
  return out;
}
