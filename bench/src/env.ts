/** A setting the bench's script provides; missing, it says which script to run. */
export function env(name: string, script = 'npm run bench'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run "${script}", which starts the servers`);
  return value;
}
