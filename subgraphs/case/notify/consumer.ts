/**
 * Sends the applicant's notices (R-CA-3) from the `cases` stream, in its own consumer group. The
 * mobile number is read and the SMS sent in `prepare`, outside any transaction; the handler then
 * only records the event as done. A failure (IdP or SMS gateway down) leaves the event pending and
 * it is retried; a crash between sending and recording can repeat a notice (at least once,
 * never lost). Each notice-bearing event is produced once per case and step, so a parallel
 * approval (R-CA-9) still gives the applicant one completion notice.
 */
import type { Cache } from '../../../kernel/cache.ts';
import type { Db } from '../../../kernel/db.ts';
import { startConsumer, type Runner } from '../../../kernel/events.ts';
import type { Logger } from '../../../kernel/log.ts';
import type { Notifier } from '../../../kernel/notify.ts';
import { CASE_SCHEMA } from '../migrations.ts';
import { CASES_STREAM } from '../events.ts';
import type { ApplicantContacts } from './contacts.ts';
import { noticeFor } from './notices.ts';

export const NOTICE_GROUP = 'case-notices';

export function startNoticeConsumer(o: {
  db: Db; cache: Cache; log: Logger; notifier: Notifier; contacts: ApplicantContacts; consumer?: { blockMs?: number; claimIdleMs?: number };
  concurrency?: number; maxAttempts?: number;
}): Promise<Runner> {
  return startConsumer({
    db: o.db, cache: o.cache, log: o.log, schema: CASE_SCHEMA, stream: CASES_STREAM, group: NOTICE_GROUP,
    concurrency: o.concurrency, maxAttempts: o.maxAttempts, ...o.consumer,
    wants: (e) => noticeFor(e) !== null,
    prepare: async (e) => {
      const n = noticeFor(e);
      if (!n) return;
      const mobile = await o.contacts.mobileOf(n.applicantId);
      if (!mobile) {
        o.log.warn({ eventId: e.id, template: n.template }, 'applicant has no mobile number; notice not sent');
        return;
      }
      await o.notifier.send({ to: mobile, template: n.template, text: n.text, params: n.params });
    },
    handle: async () => undefined,
  });
}
