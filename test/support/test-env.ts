/** Where the servers started by `npm test` (scripts/infra.sh) listen. */
export interface TestEnv {
  natsUrl: string;
  databaseUrl: string;
  redisUrl: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests through "npm test", which starts the servers`);
  return value;
}

/** Refuses any database that is not made for tests: the suite wipes it. */
export function testEnv(): TestEnv {
  const databaseUrl = required('DATABASE_URL');
  const database = new URL(databaseUrl).pathname.replace(/^\//, '');
  if (!database.endsWith('_test')) {
    throw new Error(`refusing to run end-to-end tests against database "${database}": its name must end in _test`);
  }
  return { natsUrl: required('NATS_URL'), databaseUrl, redisUrl: required('REDIS_URL') };
}
