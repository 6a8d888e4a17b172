export type ExpressionErrorCode = 'EXPRESSION_INVALID' | 'EXPRESSION_FAILED' | 'EXPRESSION_TIMEOUT' | 'EXPRESSION_TOO_COSTLY' | 'EXPRESSION_TOO_LARGE';

/** An expression that cannot be used or did not give a value; its message names the limit it passed, if any. */
export class ExpressionError extends Error {
  constructor(
    readonly code: ExpressionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}
