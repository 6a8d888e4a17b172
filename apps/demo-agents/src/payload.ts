/** Reads one field of a demo agent's payload, or says which field is wrong and why. */
export function requireString(payload: Record<string, unknown>, field: string, maxLength = 100_000): string {
  const value = payload[field];
  if (value === undefined || value === null) throw new Error(`payload.${field}: is required`);
  if (typeof value !== 'string') throw new Error(`payload.${field}: must be a string`);
  if (value.trim() === '') throw new Error(`payload.${field}: must not be empty`);
  if (value.length > maxLength) throw new Error(`payload.${field}: must be at most ${maxLength} characters`);
  return value;
}

export function optionalString(payload: Record<string, unknown>, field: string, fallback: string): string {
  const value = payload[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new Error(`payload.${field}: must be a string`);
  return value;
}

export function requireObject(payload: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = payload[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`payload.${field}: must be an object`);
  return value as Record<string, unknown>;
}
