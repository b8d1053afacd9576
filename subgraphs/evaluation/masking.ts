/**
 * What published feedback may show (R-EV-1: a published complaint hides the complainant's
 * personal data; R-EV-3: published suggestions are anonymous). Names keep their first character
 * (张三 → 张*); in free text, resident ID numbers, mobile and landline numbers, e-mail addresses
 * and the author's own name are hidden, whatever the author typed.
 */

/** 张三 → 张*, 欧阳娜娜 → 欧***; a one-character name becomes *. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

const ID_NUMBER = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])/g;
const MOBILE = /(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)/g;
const LANDLINE = /(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Free text with personal data hidden; `names` are the people whose names must not appear. */
export function maskText(text: string, names: readonly string[] = []): string {
  let out = text
    .replace(ID_NUMBER, '[证件号已隐藏]')
    .replace(EMAIL, '[邮箱已隐藏]')
    .replace(MOBILE, (m) => `${m.slice(0, m.length - 8)}****${m.slice(-4)}`)
    .replace(LANDLINE, '[电话已隐藏]');
  for (const n of names) {
    const name = n.trim();
    if ([...name].length >= 2) out = out.split(name).join(maskName(name));
  }
  return out;
}
