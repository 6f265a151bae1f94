/**
 * A Docker Engine API call failed: the one error of the DockerEngine port. It names the operation (`inspect container
 * 3f2a...`, `list services`)
 * because dockerode's own messages say only the HTTP status, which does not tell an operator which of
 * the many calls behind one listing went wrong.
 */
export class DockerApiError extends Error {
  /** What was being done, e.g. `list containers`. */
  readonly operation: string;
  /** HTTP status the engine answered with, when it answered at all. */
  readonly statusCode: number | undefined;

  constructor(operation: string, cause: unknown) {
    super(`Docker API: ${operation} failed: ${describe(cause)}`, { cause });
    this.name = 'DockerApiError';
    this.operation = operation;
    this.statusCode = DockerApiError.statusCodeOf(cause);
  }

  /** The HTTP status carried by an error of the engine's client (docker-modem sets `statusCode`), if any. */
  static statusCodeOf(error: unknown): number | undefined {
    if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') {
      return error.statusCode;
    }
    return undefined;
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
