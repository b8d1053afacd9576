/** The journey's steps and helpers (bin/journey/steps.ts), for the tests that reuse them. */
export * from '../bin/journey/steps.ts';
