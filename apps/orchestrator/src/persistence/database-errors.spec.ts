import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { databaseTrouble, isStatementError, sqlState } from './database-errors.js';

/** An error as node-postgres makes it from the server's ErrorResponse. */
function serverError(code: string, severity = 'ERROR', message = 'the server said no'): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = severity;
  return error;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });
}

describe('databaseTrouble', () => {
  it.each([
    ['08006', 'connection'],
    ['08003', 'connection'],
    ['08P01', 'connection'],
    ['40001', 'serialization'],
    ['40P01', 'deadlock'],
    ['57P01', 'shutdown'],
    ['57P02', 'shutdown'],
    ['57P03', 'shutdown'],
    ['53300', 'resource'],
    ['53100', 'resource'],
    ['53200', 'resource'],
  ])('takes SQLSTATE %s for %s trouble', (code, trouble) => {
    expect(databaseTrouble(serverError(code))).toBe(trouble);
  });

  it.each(['22P05', '22021', '23505', '23502', '22003', '42P01', '25P02', '57014'])('takes SQLSTATE %s for the work’s own error', (code) => {
    expect(databaseTrouble(serverError(code))).toBeNull();
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'])('takes a socket’s %s for a lost connection', (code) => {
    expect(databaseTrouble(socketError(code))).toBe('connection');
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
  ])('takes node-postgres’s "%s" for a lost connection', (message) => {
    expect(databaseTrouble(new Error(message))).toBe('connection');
  });

  it('sees through TypeORM’s QueryFailedError and an error’s cause', () => {
    expect(databaseTrouble(new QueryFailedError('SELECT 1', [], serverError('40P01')))).toBe('deadlock');
    expect(databaseTrouble(new QueryFailedError('SELECT 1', [], serverError('23505')))).toBeNull();
    expect(databaseTrouble(new Error('could not apply', { cause: socketError('ECONNRESET') }))).toBe('connection');
  });

  it('sees a lost connection among the errors of an AggregateError (every address refused)', () => {
    expect(databaseTrouble(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], ''))).toBe('connection');
  });

  it('leaves errors that are not the database’s alone', () => {
    expect(databaseTrouble(new TypeError('cannot read properties of undefined'))).toBeNull();
    expect(databaseTrouble(new Error('answer too large'))).toBeNull();
    expect(databaseTrouble('a string')).toBeNull();
    expect(databaseTrouble(null)).toBeNull();
  });
});

describe('sqlState', () => {
  it('reads the SQLSTATE of a server error, not a socket’s code', () => {
    expect(sqlState(serverError('23505'))).toBe('23505');
    expect(sqlState(new QueryFailedError('SELECT 1', [], serverError('22P02')))).toBe('22P02');
    expect(sqlState(socketError('EPIPE'))).toBeNull();
    expect(sqlState(new Error('Connection terminated'))).toBeNull();
  });
});

describe('isStatementError', () => {
  it('is true for an error the server answered a statement with: its transaction is rolled back', () => {
    expect(isStatementError(serverError('23505'))).toBe(true);
    expect(isStatementError(serverError('40P01'))).toBe(true);
  });

  it('is false when the connection went or the server stopped the session: a COMMIT sent may have run', () => {
    expect(isStatementError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isStatementError(serverError('57P01', 'FATAL'))).toBe(false);
    expect(isStatementError(serverError('08006'))).toBe(false);
  });
});
