/**
 * The public verify page (R-LI-4): paste a licence, upload its file, or upload
 * a picture of its QR code; the answer shows valid or the reason code with its message, and the
 * licence's facts (ID number masked, R-ID-11). Works without JavaScript: a plain multipart form
 * posted to POST /verify.
 */
import type { VerifyAnswer } from '../verify-answer.ts';
import { html, layout, type Html } from './html.ts';

export function verifyForm(error?: { code: string; message: string }): string {
  return layout({
    title: '验证电子证照 Verify a licence',
    body: html`${error ? html`<div class="result invalid" role="alert" data-code="${error.code}"><strong>${error.message}</strong> <span class="hint">(${error.code})</span></div>` : ''}
<p>粘贴证照内容、上传证照文件，或上传证照二维码的图片（PNG 或 JPEG）。<br><span class="hint">Paste the licence, upload its file, or upload a picture of its QR code (PNG or JPEG).</span></p>
<form method="post" action="/verify" enctype="multipart/form-data">
<label for="credential">证照内容 Licence text</label>
<textarea id="credential" name="credential" spellcheck="false" placeholder="eyJ…"></textarea>
<label for="file">或上传文件或二维码图片 Or upload a file or a QR picture</label>
<input id="file" name="file" type="file" accept=".jws,.jwt,.txt,.json,image/png,image/jpeg">
<div><button type="submit">验证 Verify</button></div>
</form>
<p class="hint">离线验证：<code>npx yiwang verify 证照文件 --trust trust-bundle.pem</code>（<a href="/trust-bundle.pem">下载信任根证书 trust bundle</a>）</p>`,
  });
}

function fields(a: NonNullable<VerifyAnswer['licence']>): Html {
  const rows: Array<[string, string]> = [
    ['证照名称 Type', a.typeName], ['证照编号 Number', a.number], ['持证人 Holder', a.holderName], ['证件号码 ID', a.holderCodeMasked],
    ['发证机关 Issuer', `${a.issuerName}（${a.issuerCode}）`], ['发证日期 Issued', a.issueDate],
    ['有效期 Valid', `${a.validFrom} – ${a.validUntil ?? '长期 no end'}`], ['证照标识 Identifier', a.identifier],
    ['签章时间 Sealed at', `${a.signedAt}${a.timestamped ? '（平台时间戳 platform timestamp）' : ''}`],
  ];
  return html`<dl class="fields">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

export function verifyResult(a: VerifyAnswer): string {
  const body = a.valid && a.licence
    ? html`<div class="result valid" role="status" data-valid="true"><strong>有效 Valid</strong>：印章、证书链、时间戳和证照状态均已验证。<br><span class="hint">The seal, the certificate chain, the timestamp and the licence's status verified.</span></div>${fields(a.licence)}`
    : html`<div class="result invalid" role="status" data-valid="false" data-code="${a.reason}"><strong>无效 Invalid</strong> <code>${a.reason}</code><br>${a.message}</div>`;
  return layout({ title: '验证结果 Verification result', body: html`${body}<p class="noprint"><a class="button" href="/verify">再验证一份 Verify another</a></p>` });
}
