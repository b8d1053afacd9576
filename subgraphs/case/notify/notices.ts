/**
 * The applicant's notices (R-CA-3) at accepted, rejected (不予受理), supplement requested and
 * completed, from the case service's own events. One function per event type; text zh-CN first,
 * then English, with the case number so the applicant can track it (R-CA-6). The supplement
 * notice lists every missing material (R-CA-4: told once, completely).
 */
import type { DomainEvent } from '../../../kernel/events.ts';

export interface CaseNotice { applicantId: string; template: string; text: string; params: Record<string, string> }

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function noticeFor(e: DomainEvent): CaseNotice | null {
  const p = e.payload;
  const applicantId = str(p.applicantId), caseNumber = str(p.caseNumber);
  if (!applicantId || !caseNumber) return null;
  const params = { caseNumber };
  switch (e.type) {
    case 'case.accepted':
      return {
        applicantId, template: 'case.accepted', params,
        text: `【一网】您的办件${caseNumber}（${str(p.itemName)}）已由${str(p.agencyName)}受理，可凭办件编号查询进度。Your application ${caseNumber} has been accepted.`,
      };
    case 'case.supplementRequested': {
      const list = Array.isArray(p.missingMaterials) ? p.missingMaterials.map(String) : [];
      return {
        applicantId, template: 'case.supplement', params: { ...params, materials: list.join('；') },
        text: `【一网】您的办件${caseNumber}需补正以下材料（一次性告知）：${list.join('；')}。请在线补正。Please supplement: ${list.join('; ')}.`,
      };
    }
    case 'case.completed': {
      const outcome = str(p.outcomeCode), reason = str(p.reason);
      if (outcome === '6') {
        return {
          applicantId, template: 'case.rejected', params: { ...params, reason },
          text: `【一网】您的办件${caseNumber}不予受理，理由：${reason}。Your application ${caseNumber} was not accepted: ${reason}.`,
        };
      }
      const result = outcome === '0' ? '准予许可 approved' : outcome === '1' ? `不予许可 not permitted${reason ? `（${reason}）` : ''}`
        : outcome === '5' ? '已撤回 withdrawn' : outcome === '2' ? `已作废 voided${reason ? `（${reason}）` : ''}`
        : outcome === '3' ? `已删除 deleted${reason ? `（${reason}）` : ''}` : outcome === '4' ? `已转报 forwarded${reason ? `（${reason}）` : ''}` : `结果代码 outcome ${outcome}`;
      return {
        applicantId, template: 'case.completed', params: { ...params, outcome },
        text: `【一网】您的办件${caseNumber}已办结：${result}。Your application ${caseNumber} is completed.`,
      };
    }
    default:
      return null;
  }
}
