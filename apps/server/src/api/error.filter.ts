import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError, ERROR_STATUS, type ErrorBody, type ErrorCode } from '@palimpsest/contracts';
import type { Response } from 'express';

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
};

/** body-parser's errors carry a `type` saying what went wrong with the raw body. */
interface BodyParserError {
  type?: string;
  limit?: number;
}

/** Maps an error thrown anywhere in a request to the contract's error body and status. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) return { status: error.status, body: error.toBody() };
  // Nest wraps body-parser's errors in an HttpException whose cause is the original.
  const parserError = ((error as { cause?: unknown })?.cause ?? error) as BodyParserError;
  if (parserError?.type === 'entity.too.large') {
    return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: `the request body exceeds ${parserError.limit} bytes` } };
  }
  if (parserError?.type === 'entity.parse.failed') {
    return { status: 400, body: { error: 'BAD_REQUEST', message: 'the request body is not valid JSON' } };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const detail = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    const message = Array.isArray(detail) ? detail.join('; ') : typeof detail === 'string' ? detail : error.message;
    return { status, body: { error: CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'), message } };
  }
  return { status: ERROR_STATUS.INTERNAL, body: { error: 'INTERNAL', message: 'internal server error' } };
}

/** Global filter: every error leaves as `{"error": "<CODE>", "message": "..."}` with the right status. */
@Catch()
export class ContractErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const { status, body } = toErrorBody(error);
    if (status >= (HttpStatus.INTERNAL_SERVER_ERROR as number)) this.logger.error(error instanceof Error ? error.stack : String(error));
    host.switchToHttp().getResponse<Response>().status(status).json(body);
  }
}
