/**
 * The requirement ids (R-xx-n) the platform answers to, each with a one-line statement, and where
 * each is proven: a test whose title names the id. `npm run docs` writes docs/requirements.md from
 * this list and from the test titles it finds; test/requirements.test.ts fails when an id is
 * traced by no test title, unless the page says why (not yet built, or not testable).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Why an id has no test: it is not built yet, or a test cannot show it. */
export type Untraced = { notYetBuilt: string } | { notTestable: string };

export interface Requirement {
  id: string;
  area: string;
  statement: string;
  /** Set only when no test title names the id, with the reason. */
  untraced?: Untraced;
  /** What is not built yet of a requirement that is otherwise proven. */
  open?: string;
}

const ID = 'Identity (IdP)';
const IT = 'Service items';
const CA = 'Cases';
const LI = 'Electronic licences and seals';
const EV = 'Evaluation';
const PL = 'Platform';

export const REQUIREMENTS: readonly Requirement[] = [
  { id: 'R-ID-1', area: ID, statement: 'Real-name registration of natural persons: name and resident ID number, at least two more verified factors, the service agreement; the verified factors are recorded.' },
  { id: 'R-ID-2', area: ID, statement: 'Counter registration: staff verify the ID card, the applicant confirms by SMS code, staff activate; login name = ID number; a random initial password changed at first login.' },
  { id: 'R-ID-3', area: ID, statement: 'Linked registration: bind to an account on another trusted real-name platform and take its verified attributes, then accept the agreement.' },
  { id: 'R-ID-4', area: ID, statement: 'Legal persons register by unified social credit code, bound to the legal representative: registry comparison or electronic business licence, counter, or an enterprise certificate.' },
  { id: 'R-ID-5', area: ID, statement: 'Login by ID number + password, bound mobile + SMS code, or QR code scanned with the app; SMS code and password strengthen each other.' },
  { id: 'R-ID-6', area: ID, statement: 'Password recovery by SMS to the bound mobile, or at a counter with the ID card.' },
  { id: 'R-ID-7', area: ID, statement: 'Changing the bound mobile needs an SMS confirmation on the old number, then on the new one.' },
  { id: 'R-ID-8', area: ID, statement: 'Delegation for legal persons: grantee, validity, scope of items; passed on at most 3 levels; grant, request, change, revoke, view.' },
  { id: 'R-ID-9', area: ID, statement: 'Administration: open accounts, disable (SMS notice), re-enable with a department head\'s approval (two people), tamper-evident audit log of every administrative act.' },
  { id: 'R-ID-10', area: ID, statement: 'Per-application access control: policies per application or class of user, changed without disturbing connected applications.' },
  { id: 'R-ID-11', area: ID, statement: 'ID numbers are shown with the birth date masked.' },
  { id: 'R-ID-12', area: ID, statement: 'Mutual recognition across national, provincial and municipal platforms (separate, hybrid, unified build): register once, recognised everywhere.' },
  { id: 'R-ID-13', area: ID, statement: 'Anonymous visitors browse and search public information; registered users consult, apply, track cases and keep a personal space.' },

  { id: 'R-IT-1', area: IT, statement: 'Directory entries (name, basic code, legal basis, item type) in national, provincial and municipal directories.' },
  { id: 'R-IT-2', area: IT, statement: 'Implementation by one agency: implementation code and the full GB/T 39046 element set.' },
  { id: 'R-IT-3', area: IT, statement: 'Main items, sub-items and handling items.' },
  { id: 'R-IT-4', area: IT, statement: 'Materials: name, type, sample, e-form, source, paper copies, instructions, acceptance standard, electronic copy required, which e-licence can replace it.' },
  { id: 'R-IT-5', area: IT, statement: 'Classification by nature, object, agency, life-cycle theme, level, form and jurisdiction.' },
  { id: 'R-IT-6', area: IT, statement: 'Versioned, dynamic management: changes by request and approval; the in-use version pushed at once to the portal; the same item keeps name, type, basis and code at every level.' },
  { id: 'R-IT-7', area: IT, statement: 'Search: fuzzy by keyword, phrase and filters with highlights, relevance and popularity ranking, browsing, scenario navigation, recommendations, hot services.' },
  { id: 'R-IT-8', area: IT, statement: 'Display: guide page, forms to download, handling hints, QR code to share, one source for every channel.' },
  { id: 'R-IT-9', area: IT, statement: 'Online depth rating: 4 stars = online with originals verified once at pickup; 5 stars = fully online.' },

  { id: 'R-CA-1', area: CA, statement: 'Online application pre-filled from the user\'s space and e-licences, materials uploaded; on submit a case number and a notice.' },
  { id: 'R-CA-2', area: CA, statement: 'Three modes: pre-review (at most 2 visits), verify originals at pickup (at most 1), fully online (0).' },
  { id: 'R-CA-3', area: CA, statement: 'Notices at accepted, rejected, supplement requested, completed.' },
  { id: 'R-CA-4', area: CA, statement: 'Supplement online, requested once listing everything missing; originals by hall or post; results by pickup or paid delivery.' },
  { id: 'R-CA-5', area: CA, statement: 'Appointments: login required; window, item, date and slot from the next day up to a week ahead in working hours; a maximum per slot; one per ID per item; kiosk check-in with a priority ticket; reminders; cancel online; more than 3 no-shows in a month suspend online booking.' },
  { id: 'R-CA-6', area: CA, statement: 'Tracking by case number on the portal, app, kiosk (by ID card), hotline and the QR code on the acceptance notice.' },
  { id: 'R-CA-7', area: CA, statement: 'Internal roles (receiver, acceptor, reviewer, decider, deliverer) and review methods; decide on the spot where the law allows.' },
  { id: 'R-CA-8', area: CA, statement: 'Legal and promised time limits in working days (holiday calendar), enforced, warned before, accountability record when overdue, paused during special procedures and supplements; extensions announced.' },
  { id: 'R-CA-9', area: CA, statement: 'Parallel approval: one window, one list of materials, a lead agency sets flow and deadline, co-agencies act in parallel.' },
  { id: 'R-CA-10', area: CA, statement: 'Unified outcome codes (GB/T 39046 family).' },
  { id: 'R-CA-11', area: CA, statement: 'Append-only step log: action, step, handler, opinion, start and end time.' },
  {
    id: 'R-CA-12', area: CA, statement: 'Cross-region handling: near home, anywhere in the city, across regions.',
    untraced: { notYetBuilt: 'items state their cross-region scope (R-IT-2), but a case is handled only by the agency that implements the item: accepting, handling or delivering it at another region\'s window is not built' },
  },

  { id: 'R-LI-1', area: LI, statement: 'E-licences, e-seals and e-signatures have the legal force of paper; licences follow GB/T 36901-36906.' },
  { id: 'R-LI-2', area: LI, statement: 'Issued on approval of a case; licence data pre-fills later applications; licences pushed by the government cannot be edited by the user.' },
  { id: 'R-LI-3', area: LI, statement: 'Recognised across levels, agencies and regions; one trusted seal service.' },
  { id: 'R-LI-4', area: LI, statement: 'Holders show or produce their licences at any time; third parties verify them, including offline; the seal service is supervised.' },

  { id: 'R-EV-1', area: EV, statement: 'Complaints: real-name, to an agency and item category, public or not, answered within a time limit that counts in supervision; published complaints hide personal data.' },
  { id: 'R-EV-2', area: EV, statement: 'Consultation by messages and live chat, routed to the agency of the item in view; answer time counts in performance.' },
  { id: 'R-EV-3', area: EV, statement: 'Suggestions from every page; published answers anonymised.' },
  { id: 'R-EV-4', area: EV, statement: 'Ratings: five levels, one per service event, a bad rating needs a reason, is verified, rectified within a deadline and answered; results public.' },
  { id: 'R-EV-5', area: EV, statement: 'Agencies ranked automatically on key indicators, refreshed every 30 minutes.' },

  { id: 'R-PL-1', area: PL, statement: 'Three tiers, each with a portal, a management platform, agency systems and data sharing; same-source publishing to every channel.', untraced: { notYetBuilt: 'each tier runs its own Yiwang and the tiers trust each other through the federation (`npm run tiers` starts a national, provincial and municipal set), but the management platform, the data-sharing platform and the channels other than the graph and the guide pages (app, kiosk, hotline) are not built' } },
  { id: 'R-PL-2', area: PL, statement: 'Security (confidentiality, integrity, authenticity, availability, controllability); audit everything; back-ups; no data loss.' },
  { id: 'R-PL-3', area: PL, statement: 'Scale seen in practice: millions of cases a month, hundreds of millions of users in one province.', untraced: { notTestable: 'scale is a measurement, not a pass/fail test (the standards forbid timing assertions): `npm run bench cases|idp|seal` measures it with a same-run baseline into bench/results/, and docs/architecture.md ("Scale") reads the figures' } },
];

/** A requirement id as written in test titles and docs. */
export const ID_PATTERN = /\bR-(?:ID|IT|CA|LI|EV|PL)-\d+\b/g;

/** Where a test or block begins: `describe`, `test` or `it`, optionally `.each(…)`, then `(`. */
const CALL = /\b(?:describe|test|it)\b(\.each)?\s*\(/g;

/** The index just after the parenthesis that closes the one at `open` (strings skipped); -1 if none. */
function closeParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\'' || c === '"' || c === '`') {
      const end = stringEnd(src, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** The index just after the string literal that starts at `start`; -1 if it does not end. */
function stringEnd(src: string, start: number): number {
  const q = src[start];
  for (let i = start + 1; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === q) return i + 1;
  }
  return -1;
}
/** Every `*.test.ts` file under `root` (relative paths), outside node_modules, dist and data. */
export function testFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || ['node_modules', 'dist', 'data'].includes(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(root, path));
    else if (e.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

/**
 * The titles of the tests and describe blocks in one test file's source: the string literal that
 * is the first argument of `describe(…)`, `test(…)`, `it(…)`, or of the call after `.each(…)`.
 */
export function testTitles(source: string): string[] {
  const titles: string[] = [];
  for (const m of source.matchAll(CALL)) {
    let at = m.index + m[0].length; // just after the `(`
    if (m[1]) { // .each(table)(title, …)
      at = closeParen(source, at - 1);
      if (at < 0) continue;
      while (/\s/.test(source[at] ?? '')) at++;
      if (source[at] !== '(') continue;
      at++;
    }
    while (/\s/.test(source[at] ?? '')) at++;
    const q = source[at];
    if (q !== '\'' && q !== '"' && q !== '`') continue;
    const end = stringEnd(source, at);
    if (end > 0) titles.push(source.slice(at + 1, end - 1));
  }
  return titles;
}

/** id → the test files (relative to `root`) with a title naming it. */
export function traceIds(root: string): Map<string, string[]> {
  const trace = new Map<string, string[]>();
  for (const file of testFiles(root)) {
    const ids = new Set(testTitles(readFileSync(join(root, file), 'utf8')).flatMap((t) => t.match(ID_PATTERN) ?? []));
    for (const id of ids) trace.set(id, [...(trace.get(id) ?? []), file]);
  }
  return trace;
}

/** The marking docs/requirements.md shows for an untraced id (the test accepts exactly these). */
export function untracedText(u: Untraced): string {
  return 'notYetBuilt' in u ? `not yet built: ${u.notYetBuilt}` : `not testable: ${u.notTestable}`;
}
