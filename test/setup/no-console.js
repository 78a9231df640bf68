// A test that writes to the console fails (a Singer program's stdout carries Singer messages only,
// and test output stays readable). Code under test must log through its injected logger.
import { afterEach, beforeEach, jest } from '@jest/globals';

const methods = ['log', 'info', 'warn', 'error', 'debug'];
let spies = [];

beforeEach(() => {
  spies = methods.map((m) => jest.spyOn(console, m).mockImplementation(() => {}));
});

afterEach(() => {
  const calls = spies.flatMap((spy, i) => spy.mock.calls.map((args) => `console.${methods[i]}(${args.map(String).join(' ')})`));
  spies.forEach((s) => s.mockRestore());
  if (calls.length > 0) {
    throw new Error(`test wrote to the console:\n${calls.join('\n').slice(0, 2000)}`);
  }
});
