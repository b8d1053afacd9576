/** The verifier configuration asks for (IDP_VERIFIER); the development one is refused in production. */
import type { Config } from '../../kernel/config.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/log.ts';
import { AppError } from '../../kernel/errors.ts';
import { BUILTIN_REGISTRY, fixtureVerifier, loadFixtureFile } from '../dev-registry.ts';
import { webhookVerifier } from './webhook.ts';
import type { Verifier } from './verifier.ts';

export function createVerifier(config: Config, clock: Clock, log: Logger): Verifier {
  if (config.IDP_VERIFIER === 'webhook') {
    if (!config.IDP_VERIFIER_URL || !config.IDP_VERIFIER_SECRET) {
      throw new AppError('CONFIG_INVALID', 'invalid configuration: IDP_VERIFIER=webhook needs IDP_VERIFIER_URL and IDP_VERIFIER_SECRET');
    }
    return webhookVerifier({ url: config.IDP_VERIFIER_URL, secret: config.IDP_VERIFIER_SECRET, clock, log });
  }
  if (config.NODE_ENV === 'production') {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: IDP_VERIFIER=dev answers from a fixture registry; production needs IDP_VERIFIER=webhook');
  }
  return fixtureVerifier(config.IDP_VERIFY_FIXTURES ? loadFixtureFile(config.IDP_VERIFY_FIXTURES) : BUILTIN_REGISTRY);
}
