/**
 * Chinese-aware text handling for item search (R-IT-7), with no dictionary: text is cut into
 * character n-grams instead of words. Han characters give unigrams and bigrams (a two-character
 * query is the commonest Chinese search); runs of letters and digits (codes) give unigrams,
 * bigrams and trigrams so any substring of a code can be found, and 6-grams: code alphabets are
 * small and codes full of zeros, so trigrams such as `000` or `005` are held by most items,
 * while a 6-gram such as `000005` still narrows a fragment of a credit code to a few hundred. Everything is NFKC-normalised and
 * lower-cased first, so full-width digits and letters (１２３, ＡＢ) match their ASCII forms.
 *
 * The same functions cut documents (the `grams` array of item.search_docs, GIN-indexed) and
 * queries, so what is indexed and what is looked up cannot drift apart.
 */

const HAN = /\p{Script=Han}/u;
const ALNUM = /[0-9a-z]/;

export function normalise(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

type RunKind = 'han' | 'alnum';
interface Run { kind: RunKind; text: string }

/** Maximal runs of Han characters or of ASCII letters and digits; everything else separates. */
export function runs(s: string): Run[] {
  const out: Run[] = [];
  let cur: Run | null = null;
  for (const ch of normalise(s)) {
    const kind: RunKind | null = HAN.test(ch) ? 'han' : ALNUM.test(ch) ? 'alnum' : null;
    if (kind === null) { cur = null; continue; }
    if (!cur || cur.kind !== kind) { cur = { kind, text: '' }; out.push(cur); }
    cur.text += ch;
  }
  return out;
}

function ngrams(chars: readonly string[], n: number, into: Set<string>): void {
  for (let i = 0; i + n <= chars.length; i++) into.add(chars.slice(i, i + n).join(''));
}

/** The long gram of codes (see above); a code term of at least this length is looked up by it. */
export const CODE_LONG_GRAM = 6;

/**
 * Version of the gram cutting: documents stored with an older one are cut again when the item
 * service starts (index.ts backfillSearchDocs). Version 2 added the 6-grams of codes.
 */
export const GRAMS_VERSION = 2;

/** Every gram a document offers (distinct, sorted for stable storage). */
export function documentGrams(...texts: string[]): string[] {
  const set = new Set<string>();
  for (const t of texts) {
    for (const r of runs(t)) {
      const chars = [...r.text];
      ngrams(chars, 1, set);
      ngrams(chars, 2, set);
      if (r.kind === 'alnum') { ngrams(chars, 3, set); ngrams(chars, CODE_LONG_GRAM, set); }
    }
  }
  return [...set].sort();
}

/** One searchable unit of a query. */
export interface Term {
  /** Normalised text of the term (Han or letters/digits only; separators dropped). */
  text: string;
  /** A quoted phrase must occur as written; a plain Han term is fuzzy (see `required`). */
  phrase: boolean;
  kind: RunKind | 'mixed';
  /**
   * Grams every matching document must hold (the GIN `@>` filter). Plain Han terms need each of
   * their characters, in any order and anywhere, which is what lets 食品许可 find 食品经营许可;
   * codes and phrases need their bigrams/trigrams, and are then checked as substrings.
   */
  required: string[];
  /** Bigrams of the term, for ranking by how much of it appears contiguously in the name. */
  bigrams: string[];
  /** Substring check after the gram filter (codes and phrases), or null for fuzzy Han terms. */
  substring: string | null;
}

export interface ParsedQuery {
  terms: Term[];
}

export const QUERY_MAX_TERMS = 8;

/**
 * Parse a query: whitespace separates terms, "double quotes" (or 「」 “”) make a phrase. A term
 * mixing Han and code characters (食品2024) becomes one term per run. Punctuation is ignored.
 */
export function parseQuery(q: string): ParsedQuery {
  const terms: Term[] = [];
  const re = /["“”「」『』]([^"“”「」『』]*)["“”「」『』]?|(\S+)/gu;
  for (const m of normalise(q).matchAll(re)) {
    const phrase = m[1] !== undefined;
    const raw = m[1] ?? m[2] ?? '';
    const rs = runs(raw);
    if (rs.length === 0) continue;
    if (phrase) {
      // A phrase keeps its runs together: "食品 经营" matches the text 食品经营 or 食品 经营 only as runs in order.
      const text = rs.map((r) => r.text).join('');
      terms.push(phraseTerm(text, rs.length === 1 ? rs[0]!.kind : 'mixed'));
      continue;
    }
    for (const r of rs) terms.push(r.kind === 'han' ? hanTerm(r.text) : codeTerm(r.text));
  }
  return { terms: dedupe(terms).slice(0, QUERY_MAX_TERMS) };
}

function dedupe(terms: Term[]): Term[] {
  const seen = new Set<string>();
  return terms.filter((t) => {
    const k = `${t.phrase ? 'p' : 't'}:${t.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function grams(text: string, n: number): string[] {
  const set = new Set<string>();
  ngrams([...text], n, set);
  return [...set];
}

function hanTerm(text: string): Term {
  return { text, phrase: false, kind: 'han', required: [...new Set([...text])], bigrams: grams(text, 2), substring: null };
}

/** The gram length a code of `len` characters is looked up by: the longest indexed one that fits. */
const codeGramLength = (len: number) => (len >= CODE_LONG_GRAM ? CODE_LONG_GRAM : Math.min(3, len));

function codeTerm(text: string): Term {
  return { text, phrase: false, kind: 'alnum', required: grams(text, codeGramLength([...text].length)), bigrams: grams(text, 2), substring: text };
}

function phraseTerm(text: string, kind: Term['kind']): Term {
  const chars = [...text];
  // A mixed phrase (食品2024) has no gram across the boundary in documents: require each side's grams.
  const required = new Set<string>();
  for (const r of runs(text)) for (const g of grams(r.text, r.kind === 'alnum' ? codeGramLength([...r.text].length) : Math.min(2, [...r.text].length))) required.add(g);
  return { text, phrase: true, kind, required: [...required], bigrams: grams(text, 2), substring: chars.join('') };
}

/** One piece of a highlighted text: `match` pieces are what the query found. */
export interface Segment { text: string; match: boolean }

/**
 * Mark what the query matched in `text`: every occurrence of a whole term; for a fuzzy Han term
 * that does not occur whole, each of its bigrams that does, else each of its characters.
 * Comparison is on normalised characters, the returned text is the original.
 */
export function highlight(text: string, query: ParsedQuery): Segment[] {
  const orig = [...text];
  // NFKC may change length for odd characters; compare per character to keep positions aligned.
  const norm = orig.map((c) => { const n = normalise(c); return [...n].length === 1 ? n : c; });
  const marks = new Array<boolean>(orig.length).fill(false);
  const markAll = (needle: string): boolean => {
    const len = [...needle].length;
    if (len === 0) return false;
    let found = false;
    for (let i = 0; i + len <= norm.length; i++) {
      if (norm.slice(i, i + len).join('') === needle) { for (let k = i; k < i + len; k++) marks[k] = true; found = true; }
    }
    return found;
  };
  for (const t of query.terms) {
    if (markAll(t.text) || t.phrase || t.kind !== 'han') continue;
    let any = false;
    for (const b of t.bigrams) any = markAll(b) || any;
    if (!any) for (const c of t.required) markAll(c);
  }
  const out: Segment[] = [];
  for (let i = 0; i < orig.length; i++) {
    const last = out[out.length - 1];
    if (last && last.match === marks[i]) last.text += orig[i];
    else out.push({ text: orig[i]!, match: marks[i]! });
  }
  return out;
}
