/**
 * The Content-Security-Policy of every page the platform serves. Pages carry no outside assets
 * and no inline code but the blocks registered here: a page module registers each constant
 * inline <style> or <script> once (`inlineStyle`, `inlineScript`), and the policy allows exactly
 * those, by their SHA-256 hash (CSP Level 3 hash sources). Nothing varies per request, so a
 * page cannot smuggle in a block that was not registered at start-up; oidc-provider adds the
 * hash of its own form_post script to the same header when it renders one.
 */
import { createHash } from 'node:crypto';

const styles = new Set<string>();
const scripts = new Set<string>();

const sha = (content: string) => `'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`;

/** Register a constant inline stylesheet; returns it unchanged, for use in the page template. */
export function inlineStyle(css: string): string {
  styles.add(sha(css));
  return css;
}

/** Register a constant inline script; returns it unchanged. Its data comes from data-* attributes. */
export function inlineScript(js: string): string {
  scripts.add(sha(js));
  return js;
}

/** The policy: nothing from elsewhere, no framing, no plugins, no base or form tricks. */
export function contentSecurityPolicy(): Record<string, string[]> {
  return {
    'default-src': ["'none'"],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    'object-src': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'style-src': styles.size ? [...styles] : ["'none'"],
    'script-src': scripts.size ? [...scripts] : ["'none'"],
  };
}
