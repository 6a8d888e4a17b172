import { describe, expect, it } from 'vitest';
import { exposureWarning } from './exposure.js';

describe('exposureWarning', () => {
  it('warns without an API key on an address beyond loopback', () => {
    for (const HOST of ['0.0.0.0', '::', '10.0.0.5', 'orchestrator.example']) {
      expect(exposureWarning({ HOST, PORT: 3000, API_KEY: undefined }), HOST).toMatch(/^SECURITY: API_KEY is not set and the HTTP API listens on .+:3000/);
    }
  });

  it('is quiet with an API key, or on loopback', () => {
    expect(exposureWarning({ HOST: '0.0.0.0', PORT: 3000, API_KEY: 'a-key-of-sixteen-chars' })).toBeNull();
    for (const HOST of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(exposureWarning({ HOST, PORT: 3000, API_KEY: undefined }), HOST).toBeNull();
  });
});
