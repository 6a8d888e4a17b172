/** Reads the fields of a demo agent's payload, or throws an error naming the wrong field and why. */

export type Fields = Record<string, unknown>;

export function requireString(fields: Fields, field: string, maxLength = 100_000, path = 'payload'): string {
  const value = fields[field];
  if (value === undefined || value === null) throw new Error(`${path}.${field}: is required`);
  if (typeof value !== 'string') throw new Error(`${path}.${field}: must be a string`);
  if (value.trim() === '') throw new Error(`${path}.${field}: must not be empty`);
  if (value.length > maxLength) throw new Error(`${path}.${field}: must be at most ${maxLength} characters`);
  return value;
}

export function optionalString(fields: Fields, field: string, fallback: string, maxLength = 200, path = 'payload'): string {
  const value = fields[field];
  if (value === undefined || value === null || value === '') return fallback;
  return requireString(fields, field, maxLength, path);
}

export function requireObject(fields: Fields, field: string, path = 'payload'): Fields {
  const value = fields[field];
  if (value === undefined || value === null) throw new Error(`${path}.${field}: is required`);
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}.${field}: must be an object`);
  return value as Fields;
}

export function requireNumber(fields: Fields, field: string, min: number, max: number, path = 'payload'): number {
  const value = fields[field];
  if (value === undefined || value === null) throw new Error(`${path}.${field}: is required`);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${path}.${field}: must be a number`);
  if (value < min || value > max) throw new Error(`${path}.${field}: must be from ${min} to ${max}`);
  return value;
}

export function requireBoolean(fields: Fields, field: string, path = 'payload'): boolean {
  const value = fields[field];
  if (value === undefined || value === null) throw new Error(`${path}.${field}: is required`);
  if (typeof value !== 'boolean') throw new Error(`${path}.${field}: must be true or false`);
  return value;
}
