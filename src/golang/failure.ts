/**
 * Why a text could not be read or run, as the Go function would have said it. Every step of the
 * emulation returns its result or a Failure, never throws: the texts come from outside, and a bad
 * one must cost only its caller.
 */
export interface Failure {
  readonly failure: string;
}

export function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'failure' in value;
}
