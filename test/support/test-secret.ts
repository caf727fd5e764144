/** The shared secret every test server (in process or child) uses to mint tokens. */
export const TEST_SECRET = 'test-secret';
