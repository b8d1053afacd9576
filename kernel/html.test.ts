import { describe, expect, test } from '@jest/globals';
import { Html, html } from './html.ts';

describe('html.escaping', () => {
  test('interpolated text and attributes are escaped; Html and arrays pass through', () => {
    const evil = '"><script>alert(1)</script>\'&';
    const out = html`<a title="${evil}">${evil}</a>${html`<b>ok</b>`}${[html`<i>1</i>`, '<2>']}${null}${false}`;
    expect(out).toBeInstanceOf(Html);
    expect(out.value).toBe('<a title="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;&#38;">&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#39;&#38;</a><b>ok</b><i>1</i>&#60;2&#62;');
  });
});
